import CoreMetrics
import HTTPTypes
import Logging
import NIOCore
import NIOSSL
import Shared

extension GatewayApplication {
    /// Security profile 3: refuses with 403, before the database is asked anything (an
    /// unknown identity must not get registered on the way), a station whose certificate
    /// is not its own. TLS has already checked the certificate's chain. Nil: the identity
    /// may go on to the handshake policy; a path that is no OCPP identity is left for the
    /// policy to refuse.
    static func checkCertificate(
        request: HTTPRequest, channel: any Channel, logger: Logger, rule: CertificateIdentityRule,
        metrics: GatewayMetrics
    ) async -> OCPPUpgradeDecision? {
        guard let identity = try? StationIdentity.parse(path: request.path ?? "") else { return nil }
        var certificate: StationCertificate?
        do {
            if let peer = try await channel.nioSSL_peerCertificate().get() {
                certificate = try StationCertificate(derEncoded: try peer.toDERBytes())
            }
        } catch {
            logger.warning("could not read the client certificate: \(error)", metadata: ["station": "\(identity)"])
        }
        guard let reason = rule.refusal(identity: identity, certificate: certificate) else { return nil }
        metrics.certificateMismatches.increment()
        metrics.handshakesRefused("403").increment()
        // A security event (whitepaper A00.FR.407/408): a valid certificate used for the
        // wrong station.
        logger.notice(
            "upgrade refused with 403: \(reason)",
            metadata: [
                "station": "\(identity)", "path": "\(request.path ?? "")",
                "tls.peer_serial": "\(certificate?.serialNumber ?? "none")",
            ])
        return .refuse(status: .forbidden)
    }
}
