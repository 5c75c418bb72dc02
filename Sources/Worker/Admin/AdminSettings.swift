/// Where the operator API listens and the token it asks for. Without a token the API
/// is off: an admin interface that anyone on the network could use is never started
/// by accident.
struct AdminSettings: Sendable {
    /// Loopback by default: operators reach it from the host or through a proxy they
    /// put in front of it on purpose.
    var host = "127.0.0.1"
    var port = 8180
    /// The bearer token every request must carry; nil turns the API off.
    var token: String?
    /// Database connections the API may use, apart from the worker's own.
    var maximumConnections = 4

    /// Shorter tokens are refused at start: they can be guessed.
    static let minimumTokenLength = 16
}
