import OCPP
import PostgresNIO
import Shared

/// Everything the gateway can be configured with. The defaults are safe for a network
/// anyone can reach (stations authenticate, unknown stations and id tags are
/// refused); the command line and environment (see ``GatewayCommand``) override them.
struct GatewaySettings: Sendable {
    /// How stations authenticate (OCPP 1.6 security profiles).
    enum AuthMode: String, Sendable, CaseIterable {
        /// Security profile 1: HTTP Basic, username = identity, password checked
        /// against the station's stored hash (the default).
        case basic
        /// A station without a stored password connects without credentials: anyone
        /// who reaches the port may connect as such a station (development, trusted
        /// test benches). A station with a password still needs it.
        case insecureNone = "insecure-none"
    }

    /// What happens to a station identity the database does not know.
    enum RegistrationPolicy: String, Sendable, CaseIterable {
        /// Registered and Accepted.
        case open
        /// Registered as Pending until an operator accepts it.
        case pending
        /// Refused (HTTP 404 before the upgrade, as OCPP-J 1.6 section 3 suggests).
        case known
    }

    /// How id tags are authorized.
    enum AuthorizationPolicy: String, Sendable, CaseIterable {
        /// Every id tag is Accepted (development).
        case open
        /// Id tags are looked up in `ocpp.id_tags`; unknown ones are Invalid.
        case strict
    }

    var host = "0.0.0.0"
    /// The plain `ws://` listener's port; nil: switched off (`OCPP_PORT=off`), stations
    /// and probes use the TLS listener only.
    var port: Int? = 3000
    /// The `wss://` listener on its own port, when a certificate is configured.
    var tls: TLSSettings?
    /// The subject O a SignCertificate CSR must carry (`OCPP_CSR_ORGANIZATION`); nil:
    /// certificate signing is not offered and SignCertificate is answered Rejected.
    var csrOrganization: String?
    /// This instance's name in `ocpp.gateways`, `ocpp.station_sessions` and its
    /// NOTIFY channel.
    var gatewayID: String
    var database: PostgresClient.Configuration

    var auth = AuthMode.basic
    var registrationPolicy = RegistrationPolicy.known
    var authorizationPolicy = AuthorizationPolicy.strict
    /// How payloads are read from stations whose own mode is not set
    /// (`ocpp.stations.validation_mode`): strict, or tolerant of known charger quirks.
    var validationMode = ValidationMode.strict

    /// Seconds; BootNotification.conf's interval when Accepted.
    var heartbeatInterval = 300
    /// Seconds; BootNotification.conf's interval when Pending or Rejected.
    var bootRetryInterval = 60
    /// How long an id tag lookup is reused.
    var idTagCacheTTL = Duration.seconds(30)

    /// The most work rows in one batch statement.
    var batchMaxSize = 500
    /// How long the first row of a batch waits for company. A statement's fixed
    /// cost is most of the database's time per message at small batches: at 2,000
    /// msgs/s, 15 ms instead of 5 took PostgreSQL from 233 to 183 µs and the
    /// gateway from 208 to 163 µs per message, the acknowledgement from 7 to 14 ms
    /// at the median (docs/BENCHMARKS.md).
    var batchMaxDelay = Duration.milliseconds(15)
    /// How long a CALL may wait for its row to be committed (the database may be
    /// down) before it is answered with InternalError so that the station retries.
    var ingestTimeout = Duration.seconds(20)

    /// How long a command sent to a station waits for its answer before it is
    /// marked timed out (it is never sent again).
    var callTimeout = Duration.seconds(30)

    /// Largest accepted WebSocket message in bytes; larger ones close with 1009.
    var maxFrameSize = 65_536
    /// Messages a second one station may send on average (0: no limit) and at once;
    /// beyond that its messages are held back (a ``TokenBucket``).
    var maxMessageRate = 50
    var messageBurst = 200
    /// Open connections in total and from one source address (0: no limit). Many
    /// stations can share an address behind carrier-grade NAT: raise the second then.
    var maxConnections = 100_000
    var maxConnectionsPerAddress = 2_000
    /// Connections the kernel queues for the gateway to accept (capped by the
    /// kernel's `net.core.somaxconn`). In a reconnect storm thousands of stations
    /// connect in the same second; beyond the queue their SYNs are dropped and TCP
    /// retries them after 1, 3, 7, 15 ... seconds, which made the last stations of a
    /// 10,000-station storm wait 30 s with the usual default of 256.
    var listenBacklog = 4096
    /// How long a new connection has to complete its WebSocket upgrade.
    var handshakeTimeout = Duration.seconds(10)
    /// Whether every connection starts with a PROXY protocol header naming its client
    /// (behind a proxy that sends one: HAProxy `send-proxy-v2`).
    var proxyProtocol = ProxyProtocolMode.off
    /// A station that sends nothing for this long is disconnected (0: never); nil
    /// means three heartbeat intervals, so a station that heartbeats is never idle.
    var idleTimeout: Duration?
    /// Reconnect storms: upgrades admitted a second (an upgrade waits up to 5 s for
    /// its turn, then gets 503 with Retry-After) and boots accepted a second (a
    /// BootNotification waits up to `bootMaxWait` for its turn, then is answered
    /// Pending with a retry interval drawn from `stormRetryInterval` ± 50 %, so the
    /// retries spread out). 0: no limit. Set above what a gateway on a small machine
    /// processes (about 1,000 reconnects a second on 2 shared cores), so that they
    /// only hold back a storm the gateway could not absorb anyway: at the machine's
    /// own rate they only added waits.
    var upgradeRate = 2_000
    var bootRate = 2_000
    var bootMaxWait = Duration.seconds(5)
    var stormRetryInterval = 10
    /// On shutdown, sessions are closed spread over this time rather than all at
    /// once, so that a rolling deploy moves stations to the other gateways gradually.
    var drainDuration = Duration.seconds(5)
    /// WebSocket ping interval; a connection that does not answer is closed.
    var pingInterval = Duration.seconds(30)
    /// How often this instance records its heartbeat in `ocpp.gateways`.
    var presenceInterval = Duration.seconds(10)
    /// How often the stations' clock offsets are written to their session rows.
    var clockOffsetInterval = Duration.seconds(10)
    /// ``idleTimeout`` as it applies: three heartbeat intervals unless set.
    var effectiveIdleTimeout: Duration { idleTimeout ?? .seconds(3 * heartbeatInterval) }
    /// How long shutdown may take.
    var shutdownTimeout = Duration.seconds(15)
    /// How long the services may take to end once cancelled (after ``shutdownTimeout``)
    /// before the process is stopped (ServiceLifecycle's fatal error). Not an
    /// environment setting: the in-process test harnesses raise it to 60 s, since there
    /// that fatal error ends the whole test run.
    var cancellationTimeout = Duration.seconds(2)
}
