import NIOSSL
import OCPP
import Shared
import SwiftASN1
import X509

/// Builds the TLS listener's `NIOSSLContext` from its files, with the OCPP 1.6 security
/// whitepaper's rules: TLS 1.2 or newer (A00.FR.312) and, for TLS 1.2, only the AEAD suites
/// it names (A00.FR.317) plus their ECDHE_RSA counterparts. TLS 1.3 suites are not
/// configurable in BoringSSL and are all AEAD. There is no TLS compression to turn off:
/// BoringSSL does not implement it (A00.FR.320).
enum TLSContextFactory {
    static let tls12CipherSuites: [NIOTLSCipher] = [
        .TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        .TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        .TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        .TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        .TLS_RSA_WITH_AES_128_GCM_SHA256,
        .TLS_RSA_WITH_AES_256_GCM_SHA384,
    ]

    /// What the listener serves, and the serial number of its certificate for log lines.
    struct Loaded: Sendable {
        let context: NIOSSLContext
        let serialNumber: String
        /// `OCPP_TLS_CRL`, checked against the client CA.
        var revocations: CertificateRevocations? = nil
    }

    /// Each mistake names the setting whose file is at fault.
    static func make(_ files: TLSFiles) throws(ConfigurationError) -> Loaded {
        typealias Setting = TLSSettings.Setting
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMBytes(files.certificateChain)
        } catch {
            throw ConfigurationError(setting: Setting.certificateChain, reason: "is not a PEM certificate chain")
        }
        guard let leaf = chain.first else {
            throw ConfigurationError(setting: Setting.certificateChain, reason: "contains no PEM certificate")
        }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(bytes: files.privateKey, format: .pem)
        } catch {
            throw ConfigurationError(setting: Setting.privateKey, reason: "is not a PEM private key (or is encrypted)")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        configuration.cipherSuiteValues = Self.tls12CipherSuites
        if let clientCA = files.clientCA {
            let authorities: [NIOSSLCertificate]
            do {
                authorities = try NIOSSLCertificate.fromPEMBytes(clientCA)
            } catch {
                throw ConfigurationError(setting: Setting.clientCA, reason: "is not a PEM certificate file")
            }
            guard !authorities.isEmpty else {
                throw ConfigurationError(setting: Setting.clientCA, reason: "contains no PEM certificate")
            }
            // Requires a client certificate (no certificate: the handshake fails) and checks
            // its chain; the station identity is checked against it before the upgrade.
            configuration.certificateVerification = .noHostnameVerification
            configuration.trustRoots = .certificates(authorities)
            // Tells stations which CAs we accept, so one with several certificates picks right.
            configuration.sendCANameList = true
        }
        let revocations = try Self.revocations(files)
        do {
            return Loaded(
                context: try NIOSSLContext(configuration: configuration),
                serialNumber: leaf.serialNumber.map { String($0, radix: 16).leftPadded(to: 2) }.joined(),
                revocations: revocations)
        } catch {
            // BoringSSL refuses a key that is not the certificate's.
            throw ConfigurationError(
                setting: Setting.privateKey,
                reason: "does not match the certificate in \(Setting.certificateChain) (\(error))")
        }
    }
}

extension TLSContextFactory {
    /// The revocation lists, each of which must be signed by a certificate of the client CA
    /// file: a list nobody we trust signed could refuse any station.
    static func revocations(_ files: TLSFiles) throws(ConfigurationError) -> CertificateRevocations? {
        typealias Setting = TLSSettings.Setting
        guard let list = files.revocationList else { return nil }
        guard let clientCA = files.clientCA else {
            throw ConfigurationError(setting: Setting.revocationList, reason: "needs \(Setting.clientCA)")
        }
        let documents = (try? PEMDocument.parseMultiple(pemString: String(decoding: clientCA, as: UTF8.self))) ?? []
        let authorities = documents.compactMap { try? Certificate(pemDocument: $0) }
        do {
            return try CertificateRevocations(fileBytes: list, authorities: authorities)
        } catch {
            throw ConfigurationError(setting: Setting.revocationList, reason: error.description)
        }
    }
}

extension String {
    fileprivate func leftPadded(to length: Int) -> String {
        String(repeating: "0", count: max(0, length - count)) + self
    }
}
