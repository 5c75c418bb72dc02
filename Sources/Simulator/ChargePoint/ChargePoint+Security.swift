import Foundation
import OCPP
import Shared

/// Answers of the security whitepaper's commands. The simulator keeps no keys: it
/// records installed certificates by a digest of their text, accepts signed
/// certificates and firmware, and uploads logs.
extension ChargePoint {
    mutating func respondToSecurityCommand(_ request: any OCPPRequest) -> (any OCPPResponse, [FollowUp]) {
        switch request {
        case is CertificateSignedRequest:
            return (CertificateSignedResponse(status: .accepted), [])
        case let request as InstallCertificateRequest:
            let hash = Self.hashData(of: request.certificate)
            if !installedCertificates.contains(where: { $0.hash == hash }) {
                installedCertificates.append((request.certificateType, hash))
            }
            return (InstallCertificateResponse(status: .accepted), [])
        case let request as GetInstalledCertificateIdsRequest:
            let hashes = installedCertificates.filter { $0.use == request.certificateType }.map(\.hash)
            return (
                GetInstalledCertificateIdsResponse(
                    status: hashes.isEmpty ? .notFound : .accepted, certificateHashData: hashes.isEmpty ? nil : hashes),
                []
            )
        case let request as DeleteCertificateRequest:
            let before = installedCertificates.count
            installedCertificates.removeAll { $0.hash == request.certificateHashData }
            return (DeleteCertificateResponse(status: installedCertificates.count < before ? .accepted : .notFound), [])
        case let request as ExtendedTriggerMessageRequest:
            let message: TriggeredMessage? =
                switch request.requestedMessage {
                case .bootNotification: .bootNotification
                case .heartbeat: .heartbeat
                case .meterValues: .meterValues
                case .statusNotification: .statusNotification
                case .firmwareStatusNotification: .firmwareStatusNotification
                case .logStatusNotification: .logStatusNotification
                // No key pair to make a CSR from.
                case .signChargePointCertificate: nil
                }
            guard let message else { return (ExtendedTriggerMessageResponse(status: .notImplemented), []) }
            return (
                ExtendedTriggerMessageResponse(status: .accepted),
                [.trigger(message, connectorId: request.connectorId)]
            )
        case let request as GetLogRequest:
            let name = "\(request.logType.rawValue.lowercased())-\(identity)-\(request.requestId).log"
            return (
                GetLogResponse(status: .accepted, filename: String(name.prefix(255))),
                [.uploadLog(requestId: request.requestId)]
            )
        case let request as SignedUpdateFirmwareRequest:
            return (
                SignedUpdateFirmwareResponse(status: .accepted), [.updateSignedFirmware(requestId: request.requestId)]
            )
        default:
            // Every command has an answer above; this is a charge-point-to-central-system
            // action, which resolveInbound already refused.
            preconditionFailure("no answer for \(type(of: request).action.rawValue)")
        }
    }

    /// Stand-in hash data: a stable digest of the certificate text, hex, in the
    /// fields' sizes (the simulator does not parse X.509).
    private static func hashData(of certificate: String) -> CertificateHashData {
        var hasher = StableHasher()
        hasher.add(certificate)
        let digest = hasher.hex
        return CertificateHashData(
            hashAlgorithm: .sha256, issuerNameHash: digest, issuerKeyHash: String(digest.reversed()),
            serialNumber: String(digest.prefix(16)))
    }
}

/// FNV-1a over the text, widened to 128 bits of hex: stable across runs, unlike `Hasher`.
private struct StableHasher {
    private var low: UInt64 = 0xcbf2_9ce4_8422_2325
    private var high: UInt64 = 0x8422_2325_cbf2_9ce4

    mutating func add(_ text: String) {
        for byte in text.utf8 {
            low = (low ^ UInt64(byte)) &* 0x100_0000_01b3
            high = (high ^ UInt64(byte) ^ (low >> 29)) &* 0x100_0000_01b3
        }
    }

    var hex: String {
        func word(_ value: UInt64) -> String {
            let text = String(value, radix: 16)
            return String(repeating: "0", count: 16 - text.count) + text
        }
        return word(high) + word(low)
    }
}
