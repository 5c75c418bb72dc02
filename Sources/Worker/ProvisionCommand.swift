import ArgumentParser
import Foundation
import Logging
import OCPP
import PostgresNIO
import Shared

/// Registers a fleet in one go, the way an operator rolls out new stations: each
/// station is Accepted, gets its security profile and a password made up for it, and
/// the passwords are written once to a file for the stations' configuration.
struct ProvisionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "provision",
        abstract: "Register stations PREFIX<first> ... with generated passwords, written to a credentials file.",
        discussion: """
            Each new station is registered Accepted with the given security profile and a \
            generated 20-character password (hashed for fast checks: it cannot be guessed). \
            The file gets one `identity:password` line per new station and is readable by its \
            owner only. Stations that already exist are left unchanged and not written.
            """)

    @OptionGroup var database: DatabaseOptions

    @Option(help: "Stations are named PREFIX<first>, PREFIX<first+1>, ...")
    var identityPrefix: String

    @Option(help: "How many stations.")
    var count: Int

    @Option(help: "The first station's number.")
    var first = 0

    @Option(help: "Security profile of the new stations: 1 (Basic auth) or 2 (TLS and Basic auth).")
    var securityProfile = 1

    @Option(help: "Where to write the passwords (a new file).")
    var credentials: String

    /// Rows per INSERT statement.
    static let chunkSize = 1000

    func validate() throws {
        guard (1...1_000_000).contains(count) else { throw ValidationError("--count must be 1 to 1,000,000") }
        guard first >= 0 else { throw ValidationError("--first must not be negative") }
        guard [1, 2].contains(securityProfile) else {
            throw ValidationError("--security-profile must be 1 or 2 (profile 3 stations log in with certificates)")
        }
        for index in [first, first + count - 1] where !StationIdentity.isValid("\(identityPrefix)\(index)") {
            throw ValidationError("--identity-prefix makes an invalid station identity: \(identityPrefix)\(index)")
        }
        guard !FileManager.default.fileExists(atPath: credentials) else {
            throw ValidationError("--credentials: \(credentials) exists; passwords are written to a new file only")
        }
    }

    func run() async throws {
        try await runReportingErrors {
            let logger = Logger.worker("provision")
            let configuration = try database.databaseConfiguration().configuration
            // The file first: passwords that could not be written must not be stored.
            guard
                FileManager.default.createFile(
                    atPath: credentials, contents: nil, attributes: [.posixPermissions: 0o600])
            else { throw ConfigurationError(setting: "--credentials", reason: "cannot create \(credentials)") }
            let file = try FileHandle(forWritingTo: URL(fileURLWithPath: credentials))
            defer { try? file.close() }
            let created = try await PostgresClient.withClient(configuration: configuration, logger: logger) { client in
                var created = 0
                for start in stride(from: first, to: first + count, by: Self.chunkSize) {
                    let indices = start..<min(start + Self.chunkSize, first + count)
                    let registered = try await Self.register(
                        indices.map { "\(identityPrefix)\($0)" }, securityProfile: securityProfile, client: client,
                        logger: logger)
                    let lines = registered.map { "\($0.identity):\($0.password)\n" }
                    try file.write(contentsOf: Data(lines.joined().utf8))
                    created += lines.count
                }
                return created
            }
            print(
                "provision: \(created) stations registered, \(count - created) existed already; passwords in \(credentials)"
            )
        }
    }

    /// Registers the stations of `identities` that do not exist yet, each with a new
    /// password; returns those registered with their passwords.
    static func register(
        _ identities: [String], securityProfile: Int, client: PostgresClient, logger: Logger
    ) async throws -> [(identity: String, password: String)] {
        let passwords = identities.map { _ in StationPassword.generate() }
        let hashes = passwords.map { PasswordHash.make(generatedSecret: $0) }
        let rows = try await client.query(
            """
            INSERT INTO ocpp.stations (identity, registration_status, password_hash, password_changed_at, security_profile)
            SELECT identity, 'Accepted', hash, now(), \(Int16(securityProfile))
            FROM unnest(\(identities)::text[], \(hashes)::text[]) AS given (identity, hash)
            ON CONFLICT (identity) DO NOTHING
            RETURNING identity
            """, logger: logger)
        var inserted = Set<String>()
        for try await identity in rows.decode(String.self) { inserted.insert(identity) }
        return zip(identities, passwords).filter { inserted.contains($0.0) }.map { (identity: $0.0, password: $0.1) }
    }
}
