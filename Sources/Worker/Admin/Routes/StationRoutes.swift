import Hummingbird
import OCPP
import PostgresNIO
import Shared

/// Stations: list, register, read one with its connectors, configuration and open
/// transactions, accept a pending one, and set its validation mode and security profile.
struct StationRoutes {
    let environment: AdminEnvironment

    var routes: [AdminRoute] {
        [
            AdminRoute(.get, "/api/v1/stations", handler: list),
            AdminRoute(.post, "/api/v1/stations", handler: create),
            AdminRoute(.get, "/api/v1/stations/{identity}", handler: read),
            AdminRoute(.post, "/api/v1/stations/{identity}/accept", handler: accept),
            AdminRoute(.put, "/api/v1/stations/{identity}/validation-mode", handler: setValidationMode),
            AdminRoute(.put, "/api/v1/stations/{identity}/security-profile", handler: setSecurityProfile),
        ]
    }

    static let registrationStatuses = ["Accepted", "Pending", "Rejected"]

    @Sendable func list(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let query = try AdminQuery(request, allowed: ["registrationStatus", "online", "limit", "after"])
        let registration = try query.choice("registrationStatus", in: Self.registrationStatuses)
        let online = try query.boolean("online")
        let limit = try query.limit()
        let cursor = try query.cursor()
        let rows: PostgresQuery = """
            SELECT \(unescaped: StationJSON.summary) AS item, json_build_array(s.identity) AS key,
                   row_number() OVER (ORDER BY s.identity) AS n
            FROM ocpp.stations AS s
            WHERE (\(registration)::text IS NULL OR s.registration_status = \(registration))
              AND (\(online)::boolean IS NULL OR s.online = \(online))
              AND (\(cursor?.key)::jsonb IS NULL OR s.identity > \(cursor?.key)::jsonb->>0)
            ORDER BY s.identity
            LIMIT \(limit + 1)
            """
        let page = try await PageQuery.run(rows, limit: limit, client: environment.client, logger: environment.logger)
        return .json(page)
    }

    @Sendable func create(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let body = try await AdminBody(request, allowed: ["identity", "registrationStatus"])
        let identity = try body.requiredString("identity", maxLength: StationIdentity.maximumLength)
        guard StationIdentity.isValid(identity) else {
            throw AdminError.badRequest("identity must be \(StationIdentity.rule)", field: "identity")
        }
        let registration = try body.choice("registrationStatus", in: Self.registrationStatuses) ?? "Accepted"
        let created = try await environment.json(
            """
            WITH inserted AS (
                INSERT INTO ocpp.stations (identity, registration_status) VALUES (\(identity), \(registration))
                ON CONFLICT (identity) DO NOTHING
                RETURNING *
            )
            SELECT \(unescaped: StationJSON.detail) FROM inserted AS s
            """)
        guard let created else { throw AdminError.conflict("station \(identity) already exists") }
        return .json(created, status: .created)
    }

    @Sendable func read(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        _ = try AdminQuery(request, allowed: [])
        let identity = try context.pathParameter("identity")
        let station = try await environment.json(
            "SELECT \(unescaped: StationJSON.detail) FROM ocpp.stations AS s WHERE s.identity = \(identity)")
        guard let station else { throw AdminError.notFound("no station \(identity)") }
        return .json(station)
    }

    /// A pending (or rejected) station is answered Accepted at its next
    /// BootNotification.
    @Sendable func accept(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        _ = try AdminQuery(request, allowed: [])
        let identity = try context.pathParameter("identity")
        let station = try await environment.json(
            """
            WITH updated AS (
                UPDATE ocpp.stations SET registration_status = 'Accepted', updated_at = now()
                WHERE identity = \(identity)
                RETURNING *
            )
            SELECT \(unescaped: StationJSON.detail) FROM updated AS s
            """)
        guard let station else { throw AdminError.notFound("no station \(identity)") }
        return .json(station)
    }

    static let validationModes = ValidationMode.allCases.map(\.rawValue)

    /// The station's own payload validation mode, or null to follow the gateway's
    /// OCPP_VALIDATION_MODE. A gateway reads it when the station connects, so it takes
    /// effect at the station's next connection.
    @Sendable func setValidationMode(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        _ = try AdminQuery(request, allowed: [])
        let identity = try context.pathParameter("identity")
        let body = try await AdminBody(request, allowed: ["validationMode"])
        let allowed = "\(Self.validationModes.joined(separator: ", ")), or null for the gateway default"
        let mode: String?
        switch body.object["validationMode"] {
        case nil:
            throw AdminError.badRequest("validationMode is required: \(allowed)", field: "validationMode")
        case .null?:
            mode = nil
        case .string(let value)? where ValidationMode(rawValue: value) != nil:
            mode = value
        default:
            throw AdminError.badRequest("validationMode must be one of: \(allowed)", field: "validationMode")
        }
        let station = try await environment.json(
            """
            WITH updated AS (
                UPDATE ocpp.stations SET validation_mode = \(mode), updated_at = now()
                WHERE identity = \(identity)
                RETURNING *
            )
            SELECT \(unescaped: StationJSON.detail) FROM updated AS s
            """)
        guard let station else { throw AdminError.notFound("no station \(identity)") }
        return .json(station)
    }

    /// The security profile (0–3) the station must connect with, or null for "not set"
    /// (the listener's own rules). A gateway reads it when the station connects and
    /// refuses a connection that offers less (403). Lowering it (null included) is
    /// refused with 409 unless `allowDowngrade` is true; profiles 1 and 2 need the
    /// station's password (409 otherwise), or it could never connect.
    @Sendable func setSecurityProfile(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        _ = try AdminQuery(request, allowed: [])
        let identity = try context.pathParameter("identity")
        let body = try await AdminBody(request, allowed: ["securityProfile", "allowDowngrade"])
        let profile: Int?
        switch body.object["securityProfile"] {
        case nil:
            throw AdminError.badRequest(
                "securityProfile is required: 0, 1, 2, 3, or null for the listener's rules", field: "securityProfile")
        case .null?:
            profile = nil
        case .integer(let value)? where (0...3).contains(value):
            profile = Int(value)
        case .double(let value)? where [0, 1, 2, 3].contains(value):
            // JSON Schema's integer: 3.0 is 3.
            profile = Int(value)
        default:
            throw AdminError.badRequest(
                "securityProfile must be 0, 1, 2, 3, or null for the listener's rules", field: "securityProfile")
        }
        let allowDowngrade = try body.boolean("allowDowngrade") ?? false
        // One statement: the checks and the update see the same, locked row.
        let answer = try await environment.json(
            """
            WITH current AS (
                SELECT id, security_profile,
                       password_hash IS NOT NULL OR pending_password_hash IS NOT NULL AS has_password
                FROM ocpp.stations WHERE identity = \(identity)
                FOR UPDATE
            ), updated AS (
                UPDATE ocpp.stations AS s SET security_profile = \(profile)::smallint, updated_at = now()
                FROM current AS c
                WHERE s.id = c.id
                  AND (\(allowDowngrade) OR c.security_profile IS NULL
                       OR \(profile)::smallint >= c.security_profile)
                  AND (\(profile)::smallint IS NULL OR \(profile)::smallint NOT IN (1, 2) OR c.has_password)
                RETURNING s.*
            )
            SELECT json_build_object(
                'current', c.security_profile, 'hasPassword', c.has_password,
                'station', (SELECT \(unescaped: StationJSON.detail)::json FROM updated AS s))::text
            FROM current AS c
            """)
        guard let answer else { throw AdminError.notFound("no station \(identity)") }
        guard case .object(let outcome) = try JSONParser.parse(answer) else {
            throw AdminError(status: .internalServerError, code: "internal_error", message: "the request failed")
        }
        if case .object(let station)? = outcome["station"] {
            var writer = JSONWriter()
            writer.value(.object(station))
            return .json(writer.string)
        }
        if let profile, profile == 1 || profile == 2, outcome["hasPassword"] == .bool(false) {
            // The request is well formed; the station's state refuses it, as a downgrade's does.
            var error = AdminError.conflict(
                "security profile \(profile) needs the station's password: set it first (PUT /api/v1/stations/\(identity)/password)"
            )
            error.field = "securityProfile"
            throw error
        }
        let current = if case .integer(let value)? = outcome["current"] { "\(value)" } else { "null" }
        throw AdminError.conflict(
            "station \(identity) has security profile \(current); lowering it to \(profile.map(String.init) ?? "null") needs \"allowDowngrade\": true"
        )
    }
}
