import Crypto
import Foundation

/// How meter values and the inbox are stored: TimescaleDB hypertables, or native
/// partitions where the extension is missing.
public enum StoragePath: String, Sendable, Hashable {
    case timescale
    case plain

    public var summary: String {
        switch self {
        case .timescale: "TimescaleDB hypertables"
        case .plain: "plain PostgreSQL with native partitions"
        }
    }
}

/// One numbered SQL file of `sql/`. A number has either one file for both paths
/// (`0001_schema.sql`) or one file per path (`0002_time_series.plain.sql` and
/// `0002_time_series.timescale.sql`).
public struct Migration: Sendable, Hashable {
    public var version: Int
    /// The file name, as recorded in `ocpp.schema_migrations`.
    public var name: String
    /// The path the file belongs to, or nil for a file of both.
    public var storagePath: StoragePath?
    public var sql: String
    /// Hex SHA-256 of the file's bytes.
    public var checksum: String

    public init(version: Int, name: String, storagePath: StoragePath?, sql: String) {
        self.version = version
        self.name = name
        self.storagePath = storagePath
        self.sql = sql
        self.checksum = SHA256.hash(data: Data(sql.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// Reads the migrations of `storagePath` from a directory, in order.
    public static func load(from directory: URL, for storagePath: StoragePath) throws(MigrationError) -> [Migration] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        } catch {
            throw .unreadableDirectory(directory.path)
        }
        var byVersion: [Int: [Migration]] = [:]
        for name in names where name.hasSuffix(".sql") {
            guard let (version, path) = parse(fileName: name) else { throw .badFileName(name) }
            guard let sql = try? String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8) else {
                throw .unreadableFile(name)
            }
            byVersion[version, default: []].append(Migration(version: version, name: name, storagePath: path, sql: sql))
        }
        var migrations: [Migration] = []
        for version in byVersion.keys.sorted() {
            let files = byVersion[version]!
            let common = files.filter { $0.storagePath == nil }
            let variants = files.filter { $0.storagePath != nil }
            let valid =
                (common.count == 1 && variants.isEmpty)
                || (common.isEmpty && Set(variants.map(\.storagePath)) == [.plain, .timescale] && variants.count == 2)
            guard valid else { throw .ambiguousVersion(version, files.map(\.name).sorted()) }
            migrations.append(common.first ?? variants.first { $0.storagePath == storagePath }!)
        }
        return migrations
    }

    /// `NNNN_name.sql` or `NNNN_name.plain.sql` / `NNNN_name.timescale.sql`.
    static func parse(fileName: String) -> (Int, StoragePath?)? {
        var stem = fileName.dropLast(".sql".count)
        var path: StoragePath?
        for candidate in [StoragePath.plain, .timescale] where stem.hasSuffix(".\(candidate.rawValue)") {
            path = candidate
            stem = stem.dropLast(candidate.rawValue.count + 1)
        }
        let parts = stem.split(separator: "_", maxSplits: 1)
        guard parts.count == 2, parts[0].count == 4, let version = Int(parts[0]), version > 0,
            parts[1].allSatisfy({ $0.isLowercase || $0.isNumber || $0 == "_" })
        else { return nil }
        return (version, path)
    }
}

/// Why migrations did not run. Each case reads as one line an operator can act on.
public enum MigrationError: Error, Sendable, Hashable, CustomStringConvertible {
    case unreadableDirectory(String)
    case unreadableFile(String)
    case badFileName(String)
    case ambiguousVersion(Int, [String])
    case changedAfterApply(String)
    case missingFile(String)
    case storagePathChanged(applied: StoragePath, available: StoragePath)
    case failed(file: String, statement: Int, message: String)

    public var description: String {
        switch self {
        case .unreadableDirectory(let path):
            "migrations directory \(path) cannot be read (set OCPP_MIGRATIONS_DIR or --migrations-dir)"
        case .unreadableFile(let name):
            "migration \(name) cannot be read as UTF-8 text"
        case .badFileName(let name):
            "migration file name \(name) is not NNNN_name.sql, NNNN_name.plain.sql or NNNN_name.timescale.sql"
        case .ambiguousVersion(let version, let names):
            "migration \(version) must be one file, or one .plain and one .timescale file; found \(names)"
        case .changedAfterApply(let name):
            "migration \(name) was changed after it was applied; restore it and put the change in a new migration"
        case .missingFile(let name):
            "migration \(name) was applied but its file is gone from the migrations directory"
        case .storagePathChanged(let applied, let available):
            "the schema was built for \(applied.summary) but this database offers \(available.summary)"
        case .failed(let file, let statement, let message):
            "migration \(file) failed at statement \(statement): \(message)"
        }
    }
}
