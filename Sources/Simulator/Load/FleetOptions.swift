import ArgumentParser
import Foundation
import NIOCore

/// The flags of every many-station mode: where to connect, how many, how fast.
struct FleetOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "The central system's endpoint; each station appends its identity. Repeat it for several gateways: "
                + "stations are spread over them and move to the next when a connection attempt fails."))
    var url: [String] = ["ws://localhost:3000/ocpp"]

    @Option(help: "How many stations to connect (default: load 100, commands 1000).")
    var stations: Int?

    @Option(help: "Stations are named PREFIX0, PREFIX1, ... (default: load SIM-, commands CMD-).")
    var identityPrefix: String?

    @Option(help: "New connections per second while connecting.")
    var rampRate: Double = 500

    @Option(
        help: ArgumentHelp(
            "Local source addresses to spread connections over, e.g. 127.0.0.1-127.0.0.8 (each has ~28k ports).",
            valueName: "addresses"))
    var sourceAddresses: String?

    @Option(help: "Basic-auth password of every station (security profile 1); the user is the identity.")
    var password: String?

    @Option(
        help: ArgumentHelp(
            "A file of identity:password lines (as `ocpp-worker provision` writes it); its stations use their own.",
            valueName: "file"))
    var credentials: String?

    @Flag(help: "Accept any TLS server certificate (wss:// to a test server).")
    var insecure = false

    func validate() throws {
        if let stations, stations < 1 { throw ValidationError("--stations must be at least 1") }
        guard rampRate > 0 else { throw ValidationError("--ramp-rate must be positive") }
        if let identityPrefix, identityPrefix.isEmpty || identityPrefix.count > 40 {
            throw ValidationError("--identity-prefix must have 1 to 40 characters")
        }
        for address in url { _ = try StationEndpoint(url: address) }
        if let sourceAddresses { _ = try SourceAddresses(parsing: sourceAddresses) }
    }

    func settings(defaultPrefix: String) throws -> StationFleetSettings {
        return StationFleetSettings(
            connectors: try url.map {
                try WebSocketConnector(endpoint: try StationEndpoint(url: $0), verifyCertificates: !insecure)
            },
            identityPrefix: identityPrefix ?? defaultPrefix, password: password,
            passwords: try credentials.map(Self.readCredentials) ?? [:],
            sourceAddresses: try sourceAddresses.map { try SourceAddresses(parsing: $0) })
    }

    /// `identity:password` per line; the identity ends at the first colon (identities
    /// cannot hold one, passwords can).
    static func readCredentials(_ path: String) throws -> [String: String] {
        guard let text = FileManager.default.contents(atPath: path).flatMap({ String(data: $0, encoding: .utf8) })
        else { throw ValidationError("--credentials: cannot read \(path)") }
        var passwords: [String: String] = [:]
        for (number, line) in text.split(separator: "\n").enumerated() where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else {
                throw ValidationError("--credentials: line \(number + 1) of \(path) is not identity:password")
            }
            passwords[String(line[..<colon])] = String(line[line.index(after: colon)...])
        }
        return passwords
    }
}
