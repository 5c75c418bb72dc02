import Foundation
import NIOCore

/// The local addresses load connections are spread over. Each source address has
/// its own ~28,000 ephemeral ports towards one server address, so 10,000+
/// connections from one process take a few (`127.0.0.1-127.0.0.8`).
struct SourceAddresses: Sendable {
    let addresses: [SocketAddress]

    /// `127.0.0.1-127.0.0.8` (a range in the last octet), `127.0.0.1,127.0.0.2`, or one address.
    init(parsing text: String) throws(SimulatorError) {
        var addresses: [SocketAddress] = []
        for part in text.split(separator: ",") {
            let bounds = part.split(separator: "-", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if bounds.count == 2 {
                let first = bounds[0].split(separator: ".")
                let last = bounds[1].split(separator: ".")
                guard first.count == 4, last.count == 4, first.dropLast() == last.dropLast(),
                    let from = Int(first[3]), let to = Int(last[3]), from <= to, to <= 255
                else {
                    throw SimulatorError(
                        "--source-addresses: '\(part)' is not a range like 127.0.0.1-127.0.0.8 (last octet only)")
                }
                let prefix = first.dropLast().joined(separator: ".")
                for octet in from...to { addresses.append(try Self.address("\(prefix).\(octet)")) }
            } else {
                addresses.append(try Self.address(bounds[0]))
            }
        }
        guard !addresses.isEmpty else { throw SimulatorError("--source-addresses: no address given") }
        self.addresses = addresses
    }

    private static func address(_ text: String) throws(SimulatorError) -> SocketAddress {
        do {
            return try SocketAddress(ipAddress: text, port: 0)
        } catch {
            throw SimulatorError("--source-addresses: '\(text)' is not an IP address")
        }
    }

    /// The source of the `index`-th connection.
    func address(for index: Int) -> SocketAddress {
        addresses[index % addresses.count]
    }
}
