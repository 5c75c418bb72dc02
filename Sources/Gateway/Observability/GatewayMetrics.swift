import CoreMetrics
import Metrics
import OCPP
import Shared

/// The gateway's metrics, through swift-metrics (exported as Prometheus text at
/// `/metrics`). Labels are low-cardinality: actions, outcomes and error codes, never
/// station identities.
struct GatewayMetrics: Sendable {
    let connections = Meter(label: "ocpp_gateway_connections")
    let connectionsOpened = Counter(label: "ocpp_gateway_connections_opened_total")
    /// By HTTP status of the refusal.
    let handshakesRefused = LabeledCounters(label: "ocpp_gateway_handshakes_refused_total", dimensions: ["reason"])
    let subprotocolMissing = Counter(label: "ocpp_gateway_subprotocol_missing_total")
    let invalidFrames = Counter(label: "ocpp_gateway_invalid_frames_total")
    let takeovers = Counter(label: "ocpp_gateway_session_takeovers_total")
    /// Connections closed at accept by OCPP_MAX_CONNECTIONS (`total`) or
    /// OCPP_MAX_CONNECTIONS_PER_ADDRESS (`per_address`).
    let connectionsRefused = LabeledCounters(label: "ocpp_gateway_connections_refused_total", dimensions: ["limit"])
    /// Upgrades refused with 503 (`upgrade`) and boots answered Pending (`boot`)
    /// because the gateway was over OCPP_UPGRADE_RATE or OCPP_BOOT_RATE.
    let admissionDeferred = LabeledCounters(label: "ocpp_gateway_admission_deferred_total", dimensions: ["stage"])
    /// Handshakes held back because their address failed to log in repeatedly.
    let authThrottled = Counter(label: "ocpp_gateway_auth_throttled_total")
    /// Stations disconnected after OCPP_IDLE_TIMEOUT without a message.
    let idleDisconnects = Counter(label: "ocpp_gateway_idle_disconnects_total")
    /// Messages held back because their station exceeded OCPP_MAX_MESSAGE_RATE.
    let rateLimited = Counter(label: "ocpp_gateway_messages_rate_limited_total")
    /// Security profile 3: a valid client certificate used for another station's identity
    /// (or the wrong organization), refused with 403 before the upgrade.
    let certificateMismatches = Counter(label: "ocpp_gateway_certificate_mismatches_total")
    /// TLS handshakes that failed: old protocol version, no common cipher suite, no or an
    /// untrusted client certificate, or not TLS at all.
    let tlsHandshakeFailures = Counter(label: "ocpp_gateway_tls_handshake_failures_total")
    let clockOffset = Recorder(label: "ocpp_gateway_station_clock_offset_seconds")
    /// 1 while OCPP_AUTH=insecure-none, for an alert: stations without a password
    /// connect without credentials.
    let authenticationDisabled = Gauge(label: "ocpp_gateway_authentication_disabled")
    /// Deviations from the schemas accepted from stations in tolerant mode, by quirk
    /// (``ToleratedQuirk``): which leniencies the fleet relies on.
    let toleratedQuirks = ToleratedQuirkCounters()

    /// Queued commands by action and outcome: `sent`, `answered`, `failed` (a
    /// CALLERROR), `invalid_response`, `timed_out`, `rejected` (unfit to send).
    let commands = LabeledCounters(label: "ocpp_gateway_commands_total", dimensions: ["action", "outcome"])
    private let messages = LabeledCounters(label: "ocpp_gateway_messages_total", dimensions: ["action", "outcome"])
    private let callErrors = LabeledCounters(label: "ocpp_gateway_callerrors_total", dimensions: ["code"])

    /// A CALL answered: outcome `accepted`, `duplicate` or `error`.
    func message(_ action: String, outcome: String) {
        messages(action, outcome).increment()
    }

    func callError(_ code: OCPPErrorCode) {
        callErrors(code.rawValue).increment()
    }
}

/// `ocpp_gateway_tolerated_quirks_total{quirk}`, told by the decoder.
struct ToleratedQuirkCounters: ToleratedQuirkObserver {
    private let counters = LabeledCounters(label: "ocpp_gateway_tolerated_quirks_total", dimensions: ["quirk"])

    func tolerated(_ quirk: ToleratedQuirk) {
        counters(quirk.rawValue).increment()
    }
}
