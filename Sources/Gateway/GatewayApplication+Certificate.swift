import CoreMetrics
import HTTPTypes
import Logging
import NIOCore
import NIOSSL
import OCPP
import Shared
import SwiftASN1
import X509

extension GatewayApplication {
    /// Security profile 3: refuses with 403, before the database is asked anything (an
    /// unknown identity must not get registered on the way), a station whose certificate
    /// is not its own or is on a revocation list of `OCPP_TLS_CRL`. TLS has already checked
    /// the certificate's chain. Nil: the identity may go on to the handshake policy; a path
    /// that is no OCPP identity is left for the policy to refuse.
    static func checkCertificate(
        request: HTTPRequest, channel: any Channel, logger: Logger, rule: CertificateIdentityRule,
        revocations: CertificateRevocations?, metrics: GatewayMetrics
    ) async -> OCPPUpgradeDecision? {
        guard let identity = try? StationIdentity.parse(path: request.path ?? "") else { return nil }
        var certificate: StationCertificate?
        var revoked = false
        do {
            if let peer = try await channel.nioSSL_peerCertificate().get() {
                let der = try peer.toDERBytes()
                certificate = try StationCertificate(derEncoded: der)
                if let revocations { revoked = revocations.revokes(try Certificate(derEncoded: der)) }
            }
        } catch {
            logger.warning("could not read the client certificate: \(error)", metadata: ["station": "\(identity)"])
        }
        // Both are security events: a revoked certificate that TLS alone would still
        // accept, and a valid certificate used for the wrong station (whitepaper
        // A00.FR.407/408).
        func refuse(_ reason: String) -> OCPPUpgradeDecision {
            metrics.handshakesRefused("403").increment()
            logger.notice(
                "upgrade refused with 403: \(reason)",
                metadata: [
                    "station": "\(identity)", "path": "\(request.path ?? "")",
                    "tls.peer_serial": "\(certificate?.serialNumber ?? "none")",
                ])
            return .refuse(status: .forbidden)
        }
        if revoked {
            return refuse("the client certificate is revoked (\(TLSSettings.Setting.revocationList))")
        }
        guard let reason = rule.refusal(identity: identity, certificate: certificate) else { return nil }
        metrics.certificateMismatches.increment()
        return refuse("\(reason)")
    }
}
