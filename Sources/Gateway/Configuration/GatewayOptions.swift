import ArgumentParser
import Foundation
import Logging
import OCPP
import Shared

/// The gateway's flags; each names the environment variable it overrides.
struct GatewayOptions: ParsableArguments {
    @Option(help: "PostgreSQL URL. [env: DATABASE_URL]") var databaseURL: String?
    @Option(help: "Address to listen on. [env: OCPP_HOST, default: 0.0.0.0]") var host: String?
    @Option(
        help:
            "Port of the plain ws:// listener, or off (then only the TLS port listens, which needs --tls-cert). [env: OCPP_PORT, default: 3000]"
    )
    var port: String?
    @Option(
        help:
            "This instance's name, [a-z0-9_-], at most 40 characters. [env: OCPP_GATEWAY_ID, default: host name, process id and a random suffix]"
    )
    var gatewayID: String?
    @Option(
        help:
            "Station authentication: basic (security profile 1), or insecure-none (stations without a password connect without credentials). [env: OCPP_AUTH, default: basic]"
    )
    var auth: String?
    @Option(
        help: "Unknown stations: known (refused), pending or open (Accepted). [env: OCPP_REGISTRATION, default: known]")
    var registration: String?
    @Option(help: "Id tags: strict (ocpp.id_tags) or open (all Accepted). [env: OCPP_AUTHORIZATION, default: strict]")
    var authorization: String?
    @Option(
        help:
            "Payload validation for stations without their own mode: strict or tolerant (known charger quirks). [env: OCPP_VALIDATION_MODE, default: strict]"
    )
    var validationMode: String?
    @Option(
        help: "Heartbeat interval given to accepted stations, seconds. [env: OCPP_HEARTBEAT_INTERVAL, default: 300]")
    var heartbeatInterval: String?
    @Option(
        help: "Retry interval given to Pending/Rejected stations, seconds. [env: OCPP_BOOT_RETRY_INTERVAL, default: 60]"
    )
    var bootRetryInterval: String?
    @Option(help: "How long id tag lookups are cached, seconds. [env: OCPP_ID_TAG_CACHE_TTL, default: 30]")
    var idTagCacheTTL: String?
    @Option(help: "Most work rows per batch statement. [env: OCPP_BATCH_MAX_SIZE, default: 500]")
    var batchMaxSize: String?
    @Option(help: "Longest wait to fill a batch, milliseconds. [env: OCPP_BATCH_MAX_DELAY_MS, default: 15]")
    var batchMaxDelayMs: String?
    @Option(
        help:
            "How long a CALL waits for the database before InternalError, seconds. [env: OCPP_INGEST_TIMEOUT, default: 20]"
    )
    var ingestTimeout: String?
    @Option(
        help:
            "How long a command sent to a station waits for its answer, seconds. [env: OCPP_CALL_TIMEOUT, default: 30]"
    )
    var callTimeout: String?
    @Option(help: "Largest WebSocket message, bytes. [env: OCPP_MAX_FRAME_SIZE, default: 65536]")
    var maxFrameSize: String?
    @Option(
        help:
            "Messages a second one station may send on average, 0 for no limit; more are held back. [env: OCPP_MAX_MESSAGE_RATE, default: 50]"
    )
    var maxMessageRate: String?
    @Option(help: "Messages one station may send at once. [env: OCPP_MESSAGE_BURST, default: 200]")
    var messageBurst: String?
    @Option(help: "Open connections in total, 0 for no limit. [env: OCPP_MAX_CONNECTIONS, default: 100000]")
    var maxConnections: String?
    @Option(
        help:
            "Open connections from one source address, 0 for no limit. [env: OCPP_MAX_CONNECTIONS_PER_ADDRESS, default: 2000]"
    )
    var maxConnectionsPerAddress: String?
    @Option(
        help: "Seconds a new connection has to complete its upgrade. [env: OCPP_HANDSHAKE_TIMEOUT, default: 10]")
    var handshakeTimeout: String?
    @Option(
        help:
            "on: every connection must start with a PROXY protocol header (v1 or v2), whose client address is used instead of the proxy's; off: none is expected. [env: OCPP_PROXY_PROTOCOL, default: off]"
    )
    var proxyProtocol: String?
    @Option(
        help:
            "Seconds without a message after which a station is disconnected, 0 never. [env: OCPP_IDLE_TIMEOUT, default: 3 heartbeat intervals]"
    )
    var idleTimeout: String?
    @Option(help: "WebSocket upgrades admitted a second, 0 for no limit. [env: OCPP_UPGRADE_RATE, default: 2000]")
    var upgradeRate: String?
    @Option(
        help:
            "Boots accepted a second, 0 for no limit; beyond it a BootNotification waits up to 5 s for its turn, then is answered Pending. [env: OCPP_BOOT_RATE, default: 2000]"
    )
    var bootRate: String?
    @Option(
        help:
            "Seconds, +-50 % at random, a station deferred by OCPP_BOOT_RATE waits before its next boot. [env: OCPP_STORM_RETRY_INTERVAL, default: 10]"
    )
    var stormRetryInterval: String?
    @Option(
        help: "Seconds over which sessions are closed at shutdown. [env: OCPP_DRAIN_SECONDS, default: 5]")
    var drainSeconds: String?
    @Option(help: "WebSocket ping interval, seconds. [env: OCPP_PING_INTERVAL, default: 30]")
    var pingInterval: String?
    @Option(
        help:
            "PEM certificate chain for wss:// (security profile 2); with --tls-key it opens the TLS port. [env: OCPP_TLS_CERT]"
    )
    var tlsCert: String?
    @Option(help: "PEM private key of --tls-cert. [env: OCPP_TLS_KEY]") var tlsKey: String?
    @Option(help: "Port of the wss:// listener. [env: OCPP_TLS_PORT, default: 3443]") var tlsPort: String?
    @Option(
        help:
            "PEM CA certificates that sign station certificates; set, stations must present one (security profile 3). [env: OCPP_TLS_CLIENT_CA]"
    )
    var tlsClientCa: String?
    @Option(
        help: "Required subject O of station certificates (the CPO name). [env: OCPP_TLS_CLIENT_ORGANIZATION]")
    var tlsClientOrganization: String?
    @Option(
        help:
            "PEM or DER certificate revocation list(s) signed by --tls-client-ca; station certificates on them are refused. [env: OCPP_TLS_CRL]"
    )
    var tlsCrl: String?
    @Option(
        help:
            "Required subject O of the CSRs stations send with SignCertificate; unset, SignCertificate is answered Rejected. [env: OCPP_CSR_ORGANIZATION]"
    )
    var csrOrganization: String?
    @Option(
        help:
            "Seconds between checks of the TLS files for a new certificate, 0 only on SIGHUP. [env: OCPP_TLS_RELOAD_INTERVAL, default: 5]"
    )
    var tlsReloadInterval: String?
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical. [env: LOG_LEVEL, default: info]")
    var logLevel: String?

    func resolve(
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ConfigurationError)
        -> (GatewaySettings, Logger.Level)
    {
        let settings = SettingsResolver(environment: environment)
        let databaseURL = try settings.requiredString("DATABASE_URL", flag: databaseURL, flagName: "database-url")
        let gatewayID = settings.string("OCPP_GATEWAY_ID", flag: gatewayID, default: Self.defaultGatewayID())
        guard gatewayID.count <= 40,
            gatewayID.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-" || $0 == "_") }),
            !gatewayID.isEmpty
        else {
            throw ConfigurationError(
                setting: "OCPP_GATEWAY_ID", reason: "must be 1 to 40 characters from a-z, 0-9, - and _")
        }
        var result = GatewaySettings(gatewayID: gatewayID, database: try DatabaseURL(databaseURL).configuration)
        result.host = settings.string("OCPP_HOST", flag: host, default: result.host)
        if settings.text("OCPP_PORT", flag: port)?.lowercased() == "off" {
            result.port = nil
        } else {
            result.port = try settings.integer("OCPP_PORT", flag: port, default: 3000, range: 0...65535)
        }
        // The old name of insecure-none: refused rather than read, so that no
        // configuration turns authentication off without saying it is insecure.
        guard settings.text("OCPP_AUTH", flag: auth)?.lowercased() != "none" else {
            throw ConfigurationError(
                setting: "OCPP_AUTH",
                reason:
                    "none was renamed insecure-none: it lets anyone connect as a station that has no password")
        }
        result.auth = try settings.choice("OCPP_AUTH", flag: auth, default: result.auth)
        result.registrationPolicy = try settings.choice(
            "OCPP_REGISTRATION", flag: registration, default: result.registrationPolicy)
        result.authorizationPolicy = try settings.choice(
            "OCPP_AUTHORIZATION", flag: authorization, default: result.authorizationPolicy)
        // Replaced by OCPP_VALIDATION_MODE; ignoring it silently would change what an
        // upgraded gateway accepts.
        guard settings.text("OCPP_LENIENT", flag: nil) == nil else {
            throw ConfigurationError(
                setting: "OCPP_LENIENT", reason: "was replaced by OCPP_VALIDATION_MODE (strict or tolerant)")
        }
        result.validationMode = try settings.choice(
            "OCPP_VALIDATION_MODE", flag: validationMode, default: result.validationMode)
        result.heartbeatInterval = try settings.integer(
            "OCPP_HEARTBEAT_INTERVAL", flag: heartbeatInterval, default: result.heartbeatInterval, range: 1...86_400)
        result.bootRetryInterval = try settings.integer(
            "OCPP_BOOT_RETRY_INTERVAL", flag: bootRetryInterval, default: result.bootRetryInterval, range: 1...86_400)
        result.idTagCacheTTL = try settings.duration(
            "OCPP_ID_TAG_CACHE_TTL", flag: idTagCacheTTL, default: result.idTagCacheTTL, unit: .seconds(1),
            range: 0...3600)
        result.batchMaxSize = try settings.integer(
            "OCPP_BATCH_MAX_SIZE", flag: batchMaxSize, default: result.batchMaxSize, range: 1...10_000)
        result.batchMaxDelay = try settings.duration(
            "OCPP_BATCH_MAX_DELAY_MS", flag: batchMaxDelayMs, default: result.batchMaxDelay, unit: .milliseconds(1),
            range: 0...1000)
        result.ingestTimeout = try settings.duration(
            "OCPP_INGEST_TIMEOUT", flag: ingestTimeout, default: result.ingestTimeout, unit: .seconds(1), range: 1...300
        )
        result.callTimeout = try settings.duration(
            "OCPP_CALL_TIMEOUT", flag: callTimeout, default: result.callTimeout, unit: .seconds(1), range: 1...3600)
        result.maxFrameSize = try settings.integer(
            "OCPP_MAX_FRAME_SIZE", flag: maxFrameSize, default: result.maxFrameSize, range: 1024...16_777_216)
        result.maxMessageRate = try settings.integer(
            "OCPP_MAX_MESSAGE_RATE", flag: maxMessageRate, default: result.maxMessageRate, range: 0...100_000)
        result.messageBurst = try settings.integer(
            "OCPP_MESSAGE_BURST", flag: messageBurst, default: result.messageBurst, range: 1...1_000_000)
        result.maxConnections = try settings.integer(
            "OCPP_MAX_CONNECTIONS", flag: maxConnections, default: result.maxConnections, range: 0...10_000_000)
        result.maxConnectionsPerAddress = try settings.integer(
            "OCPP_MAX_CONNECTIONS_PER_ADDRESS", flag: maxConnectionsPerAddress,
            default: result.maxConnectionsPerAddress, range: 0...10_000_000)
        result.handshakeTimeout = try settings.duration(
            "OCPP_HANDSHAKE_TIMEOUT", flag: handshakeTimeout, default: result.handshakeTimeout, unit: .seconds(1),
            range: 1...600)
        result.proxyProtocol = try settings.choice(
            "OCPP_PROXY_PROTOCOL", flag: proxyProtocol, default: result.proxyProtocol)
        if settings.text("OCPP_IDLE_TIMEOUT", flag: idleTimeout) != nil {
            result.idleTimeout = try settings.duration(
                "OCPP_IDLE_TIMEOUT", flag: idleTimeout, default: .zero, unit: .seconds(1), range: 0...604_800)
        }
        result.upgradeRate = try settings.integer(
            "OCPP_UPGRADE_RATE", flag: upgradeRate, default: result.upgradeRate, range: 0...1_000_000)
        result.bootRate = try settings.integer(
            "OCPP_BOOT_RATE", flag: bootRate, default: result.bootRate, range: 0...1_000_000)
        result.stormRetryInterval = try settings.integer(
            "OCPP_STORM_RETRY_INTERVAL", flag: stormRetryInterval, default: result.stormRetryInterval, range: 2...3600)
        result.drainDuration = try settings.duration(
            "OCPP_DRAIN_SECONDS", flag: drainSeconds, default: result.drainDuration, unit: .seconds(1), range: 0...300)
        result.shutdownTimeout = result.drainDuration + .seconds(10)
        result.tls = try resolveTLS(settings)
        result.csrOrganization = settings.text("OCPP_CSR_ORGANIZATION", flag: csrOrganization)
        try Self.checkListeners(result)
        result.pingInterval = try settings.duration(
            "OCPP_PING_INTERVAL", flag: pingInterval, default: result.pingInterval, unit: .seconds(1), range: 1...3600)
        let level = try ProcessBootstrap.logLevel(settings.string("LOG_LEVEL", flag: logLevel, default: "info"))
        return (result, level)
    }

    /// Every listener must authenticate stations: no plain port and no TLS port is no
    /// gateway, and a TLS port that lets stations in without a password or a client
    /// certificate would be TLS without a security profile.
    static func checkListeners(_ settings: GatewaySettings) throws(ConfigurationError) {
        if settings.port == nil, settings.tls == nil {
            throw ConfigurationError(
                setting: "OCPP_PORT",
                reason:
                    "off needs \(TLSSettings.Setting.certificateChain) and \(TLSSettings.Setting.privateKey): the gateway would have no listener"
            )
        }
        if let tls = settings.tls, tls.clientCAPath == nil, settings.auth == .insecureNone {
            throw ConfigurationError(
                setting: "OCPP_AUTH",
                reason:
                    "insecure-none with \(TLSSettings.Setting.certificateChain) and no \(TLSSettings.Setting.clientCA) leaves the TLS port without station authentication: use OCPP_AUTH=basic (profile 2) or set \(TLSSettings.Setting.clientCA) (profile 3)"
            )
        }
    }

    /// `<host name>-<process id>`, lower-cased and reduced to the allowed characters.
    /// Host name, process id and a random suffix: in a container the process id is
    /// always 1, and a restarted gateway must not take over its dead predecessor's
    /// identity (whose sessions the worker ends once its heartbeat is stale).
    static func defaultGatewayID() -> String {
        let host = ProcessInfo.processInfo.hostName.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "-" }
        let suffix = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        return String(String(host).prefix(24)) + "-\(ProcessInfo.processInfo.processIdentifier)-\(suffix)"
    }
}
