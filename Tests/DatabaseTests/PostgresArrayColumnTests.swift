import Foundation
import NIOCore
import PostgresNIO
import Shared
import TestSupport
import Testing

/// The batch columns the gateway's ingest statement and the worker's meter values
/// insert bind: without NULLs byte for byte what PostgresNIO's own array encoding
/// writes, and with NULLs what PostgreSQL reads back as the same array.
@Suite("Binary array columns")
struct PostgresArrayColumnTests {
    @Test func integersEncodeAsPostgresNIOEncodesThem() {
        expectSameBytes([Int64]())
        expectSameBytes([Int64.min, -1, 0, 1, Int64.max])
        expectSameBytes([Int32.min, -1, 0, 1, Int32.max])
    }

    @Test func booleansAndDoublesEncodeAsPostgresNIOEncodesThem() {
        expectSameBytes([true, false, true])
        expectSameBytes([
            0, -0.0, 1.5, -1e300, .infinity, -.infinity, .nan, .greatestFiniteMagnitude, .leastNonzeroMagnitude,
        ])
    }

    @Test func stringsEncodeAsPostgresNIOEncodesThem() {
        let strings = ["", "a", "Energy.Active.Import.Register", "é€😀", String(repeating: "x", count: 5000)]
        expectSameBytes([String]())
        expectSameBytes(strings)
        // Given as UTF-8 bytes, as the gateway binds the JSON it wrote.
        var fromBytes = PostgresArrayColumn<String>()
        for string in strings { fromBytes.append(utf8: Array(string.utf8)) }
        #expect(bytes(fromBytes) == bytes(strings))
    }

    @Test func timestampsAndBytesEncodeAsPostgresNIOEncodesThem() {
        expectSameBytes([
            PostgresTimestamp(microsecondsSince2000: .min), PostgresTimestamp(microsecondsSince2000: -1),
            PostgresTimestamp(Date(timeIntervalSince1970: 1_765_000_000.123)),
        ])
        let digests: [[UInt8]] = [[], [0], Array(0...255)]
        #expect(
            bytes(PostgresArrayColumn(digests.map(PostgresBytes.init)))
                == bytes(digests.map { ByteBuffer(bytes: $0) }))
    }

    /// The has-NULLs flag, and -1 as a NULL element's length.
    @Test func aNULLElementIsLengthMinusOneAndSetsTheFlag() {
        let column = PostgresArrayColumn<String>([nil, "ab"])
        #expect(
            bytes(column) == [
                0, 0, 0, 1,  // one dimension
                0, 0, 0, 1,  // has NULLs
                0, 0, 0, 25,  // text
                0, 0, 0, 2,  // two elements
                0, 0, 0, 1,  // lower bound
                255, 255, 255, 255,  // NULL
                0, 0, 0, 2, 97, 98,  // "ab"
            ])
        #expect(column.count == 2)
        #expect(bytes(PostgresArrayColumn<Int32>([Int32?]())) == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 23])
    }

    /// PostgreSQL reads each column as the array its literal spells.
    @Test func postgreSQLReadsTheColumnsWithTheirNULLs() async throws {
        try await PostgresClient.withClient(
            configuration: try TestDatabase.serverConfiguration, logger: TestDatabase.logger
        ) { client in
            try await expectRead(PostgresArrayColumn<String>(["é€", nil, ""]), as: "text[]", #"{é€,NULL,""}"#, client)
            try await expectRead(
                PostgresArrayColumn<Int32>([nil, .min]), as: "integer[]", "{NULL,-2147483648}", client)
            try await expectRead(
                PostgresArrayColumn<Int64>([.max, nil]), as: "bigint[]", "{9223372036854775807,NULL}", client)
            try await expectRead(PostgresArrayColumn<Bool>([true, nil, false]), as: "boolean[]", "{t,NULL,f}", client)
            try await expectRead(
                PostgresArrayColumn<Double>([-.infinity, nil, 1.5]), as: "double precision[]", "{-Infinity,NULL,1.5}",
                client)
            try await expectRead(
                PostgresArrayColumn<PostgresTimestamp>([PostgresTimestamp(microsecondsSince2000: -1), nil]),
                as: "timestamptz[]", #"{"1999-12-31 23:59:59.999999+00",NULL}"#, client)
            try await expectRead(
                PostgresArrayColumn<PostgresBytes>([PostgresBytes([0, 255]), nil]), as: "bytea[]", #"{"\\x00ff",NULL}"#,
                client)
            try await expectRead(PostgresArrayColumn<String>([String?]()), as: "text[]", "{}", client)
        }
    }
}

private func bytes(_ value: some PostgresEncodable) -> [UInt8] {
    var buffer = ByteBuffer()
    try! value.encode(into: &buffer, context: .default)
    return Array(buffer.readableBytesView)
}

private func expectSameBytes<Element>(
    _ values: [Element], sourceLocation: SourceLocation = #_sourceLocation
) where Element: PostgresArrayColumnElement & PostgresArrayEncodable {
    #expect(bytes(PostgresArrayColumn(values)) == bytes(values), sourceLocation: sourceLocation)
}

private func expectRead<Element>(
    _ column: PostgresArrayColumn<Element>, as type: String, _ literal: String, _ client: PostgresClient,
    sourceLocation: SourceLocation = #_sourceLocation
) async throws {
    var bindings = PostgresBindings()
    bindings.append(column)
    bindings.append(literal)
    let rows = try await client.query(
        PostgresQuery(unsafeSQL: "SELECT $1::\(type) IS NOT DISTINCT FROM $2::text::\(type)", binds: bindings),
        logger: TestDatabase.logger)
    var same: [Bool] = []
    for try await value in rows.decode(Bool.self) { same.append(value) }
    #expect(same == [true], "\(type) \(literal)", sourceLocation: sourceLocation)
}
