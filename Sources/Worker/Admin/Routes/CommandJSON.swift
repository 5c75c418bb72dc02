/// How a queued command reads in the admin API, rendered by the database from
/// `ocpp.station_messages AS m`.
enum CommandJSON {
    /// A new AuthorizationKey is a password: never shown, also while it waits to be
    /// sent (the database drops it from the row once the command has ended).
    static let redactedPayload = """
        CASE WHEN m.action = 'ChangeConfiguration' AND m.payload->>'key' = 'AuthorizationKey'
             THEN jsonb_set(m.payload, '{value}', '"(redacted)"') ELSE m.payload END
        """

    static let object = """
        json_build_object(
            'messageId', m.message_id, 'station', (SELECT identity FROM ocpp.stations WHERE id = m.station_id),
            'action', m.action, 'payload', \(redactedPayload), 'status', m.status, 'collapseKey', m.collapse_key,
            'notBefore', m.not_before, 'expiresAt', m.expires_at, 'createdAt', m.created_at,
            'sentAt', m.sent_at, 'sentByGateway', m.sent_by_gateway, 'answeredAt', m.answered_at,
            'closedAt', m.closed_at, 'response', m.response,
            'error', CASE WHEN m.error_code IS NOT NULL
                          THEN json_build_object('code', m.error_code, 'description', m.error_description) END)
        """
}
