/// The `wss://` listener (OCPP 1.6 security profiles 2 and 3). It runs next to the plain
/// listener, on its own port, so that one gateway can serve stations of several profiles
/// (the security whitepaper allows a profile per port, A00.FR.006).
struct TLSSettings: Sendable {
    /// PEM file with the gateway's certificate, then any intermediates (`OCPP_TLS_CERT`).
    var certificateChainPath: String
    /// PEM file with the certificate's private key (`OCPP_TLS_KEY`).
    var privateKeyPath: String
    var port = 3443
    /// PEM file of the CA certificates that sign station certificates (`OCPP_TLS_CLIENT_CA`).
    /// Set: security profile 3, every station must present a certificate from one of them,
    /// and the certificate replaces the Basic password. Unset: profile 2.
    var clientCAPath: String?
    /// When set, a station certificate's subject O must equal it (the whitepaper's "O = CPO
    /// name").
    var clientOrganization: String?
    /// PEM (one or more lists) or DER file of certificate revocation lists signed by the
    /// client CA (`OCPP_TLS_CRL`): a station certificate on one is refused.
    var revocationListPath: String?
    /// How often the files are checked for a new certificate (0: only on SIGHUP).
    var reloadInterval = Duration.seconds(5)

    /// Names of the settings, for configuration errors and log lines.
    enum Setting {
        static let certificateChain = "OCPP_TLS_CERT"
        static let privateKey = "OCPP_TLS_KEY"
        static let port = "OCPP_TLS_PORT"
        static let clientCA = "OCPP_TLS_CLIENT_CA"
        static let clientOrganization = "OCPP_TLS_CLIENT_ORGANIZATION"
        static let reloadInterval = "OCPP_TLS_RELOAD_INTERVAL"
        static let revocationList = "OCPP_TLS_CRL"
    }
}
