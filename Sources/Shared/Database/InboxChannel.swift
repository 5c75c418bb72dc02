/// The LISTEN/NOTIFY channel that tells workers new journal rows are in
/// `ocpp.inbox`: gateways notify after their batches commit, the worker's session
/// expiry after it journals disconnects; the workers listen. The journal, not the
/// notice, is what they read: a lost notice costs only their poll interval.
public enum InboxChannel {
    public static let name = "ocpp_inbox"
}
