import Foundation
import OCPP
import Shared

/// The bytes of the TLS listener's files, as read at one moment. Comparing two readings
/// tells whether anything changed, whatever the file system does with modification times.
struct TLSFiles: Equatable, Sendable {
    var certificateChain: [UInt8]
    var privateKey: [UInt8]
    var clientCA: [UInt8]?
    var revocationList: [UInt8]?

    static func read(_ settings: TLSSettings) throws(ConfigurationError) -> TLSFiles {
        TLSFiles(
            certificateChain: try Self.read(
                settings.certificateChainPath, setting: TLSSettings.Setting.certificateChain),
            privateKey: try Self.read(settings.privateKeyPath, setting: TLSSettings.Setting.privateKey),
            clientCA: try settings.clientCAPath.map { path throws(ConfigurationError) in
                try Self.read(path, setting: TLSSettings.Setting.clientCA)
            },
            revocationList: try settings.revocationListPath.map { path throws(ConfigurationError) in
                try Self.read(path, setting: TLSSettings.Setting.revocationList)
            })
    }

    private static func read(_ path: String, setting: String) throws(ConfigurationError) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError(setting: setting, reason: "cannot be read: \(path)")
        }
        return Array(data)
    }
}
