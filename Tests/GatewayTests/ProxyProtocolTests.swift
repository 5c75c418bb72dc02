import ArgumentParser
import NIOCore
import OCPP
import Shared
import TestSupport
import Testing

@testable import Gateway

/// The PROXY protocol header parser (haproxy's doc/proxy-protocol.txt), without IO.
@Suite("PROXY protocol header")
struct ProxyProtocolTests {
    private typealias Header = ProxyProtocolHeader

    private static func parse(_ bytes: [UInt8]) throws(Header.Failure) -> Header.Parsed {
        try Header.parse(bytes)
    }

    private static func parse(_ text: String) throws(Header.Failure) -> Header.Parsed {
        try Header.parse(Array(text.utf8))
    }

    private static func failure(_ bytes: [UInt8]) -> Header.Failure? {
        do {
            _ = try Header.parse(bytes)
            return nil
        } catch {
            return error
        }
    }

    private static func address(_ ip: String, _ port: Int) throws -> SocketAddress {
        try SocketAddress(ipAddress: ip, port: port)
    }

    /// A version 2 header: signature, version 2 and `command`, `family` with TCP, then
    /// `payload` (addresses and TLVs).
    static func v2(command: UInt8 = 0x1, family: UInt8 = 0x1, payload: [UInt8]) -> [UInt8] {
        Header.v2Signature + [
            0x20 | command, family << 4 | 0x1, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF),
        ]
            + payload
    }

    static func v2IPv4(
        source: [UInt8], sourcePort: UInt16, destination: [UInt8] = [10, 0, 0, 1], port: UInt16 = 3000
    )
        -> [UInt8]
    {
        v2(
            payload: source + destination + [
                UInt8(sourcePort >> 8), UInt8(sourcePort & 0xFF), UInt8(port >> 8), UInt8(port & 0xFF),
            ])
    }

    // MARK: Version 1

    @Test func v1TCP4NamesTheClientAndTheProxy() throws {
        let text = "PROXY TCP4 192.0.2.10 198.51.100.2 56324 3000\r\n"
        let parsed = try Self.parse(text + "GET / HTTP/1.1\r\n")
        let expected = Header(
            source: try Self.address("192.0.2.10", 56324), destination: try Self.address("198.51.100.2", 3000),
            version: 1)
        #expect(parsed == .complete(expected, length: text.utf8.count))
    }

    @Test func v1TCP6NamesTheClient() throws {
        let text = "PROXY TCP6 2001:db8::7 2001:db8::1 65535 443\r\n"
        guard case .complete(let header, let length) = try Self.parse(text) else {
            Issue.record("not complete")
            return
        }
        #expect(length == text.utf8.count)
        #expect(header.source == (try Self.address("2001:db8::7", 65535)))
        #expect(header.source?.ipAddress == "2001:db8::7")
    }

    @Test func v1UnknownKeepsTheSocketsAddress() throws {
        #expect(try Self.parse("PROXY UNKNOWN\r\n") == .complete(Header(source: nil, version: 1), length: 15))
        // Whatever follows UNKNOWN on the line is ignored.
        let long = "PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n"
        #expect(try Self.parse(long) == .complete(Header(source: nil, version: 1), length: long.utf8.count))
    }

    @Test func v1WaitsForTheEndOfItsLine() throws {
        let line = "PROXY TCP4 192.0.2.10 198.51.100.2 56324 3000\r\n"
        for end in 1..<line.utf8.count {
            #expect(try Header.parse(Array(line.utf8.prefix(end))) == .incomplete, "\(end) bytes")
        }
    }

    @Test(arguments: [
        "PROXY TCP4 192.0.2.10 198.51.100.2 56324\r\n",  // a field short
        "PROXY TCP4 192.0.2.10 198.51.100.2 56324 3000 9\r\n",  // a field too many
        "PROXY TCP4 192.0.2.10  198.51.100.2 56324 3000\r\n",  // two spaces
        "PROXY TCP4 2001:db8::7 198.51.100.2 56324 3000\r\n",  // IPv6 in TCP4
        "PROXY TCP6 192.0.2.10 2001:db8::1 56324 3000\r\n",  // IPv4 in TCP6
        "PROXY TCP4 192.0.2.256 198.51.100.2 56324 3000\r\n",
        "PROXY TCP4 192.0.2.10 198.51.100.2 65536 3000\r\n",
        "PROXY TCP4 192.0.2.10 198.51.100.2 -1 3000\r\n",
        "PROXY TCP4 192.0.2.10 198.51.100.2 0443 3000\r\n",
        "PROXY TCP4 192.0.2.10 198.51.100.2 56324 3000\n",  // LF without CR
        "PROXY UDP4 192.0.2.10 198.51.100.2 56324 3000\r\n",
        "PROXY tcp4 192.0.2.10 198.51.100.2 56324 3000\r\n",
        "PROXY \r\n",
        "PROXY TCP4 192.0.2.10 198.51.100.2 56324 30\u{7F}0\r\n",
    ])
    func malformedV1IsRefused(line: String) {
        guard case .malformed = Self.failure(Array(line.utf8)) else {
            Issue.record("accepted or not malformed: \(line.debugDescription)")
            return
        }
    }

    @Test func v1LongerThan107BytesIsRefused() throws {
        let long = Array(("PROXY UNKNOWN " + String(repeating: "x", count: 200)).utf8)
        #expect(Self.failure(long) == .tooLong)
        // 107 bytes, CRLF included, is the longest there is.
        let longest = "PROXY UNKNOWN " + String(repeating: "x", count: 107 - 16) + "\r\n"
        #expect(longest.utf8.count == 107)
        #expect(try Self.parse(longest) == .complete(Header(source: nil, version: 1), length: 107))
    }

    // MARK: Version 2

    @Test func v2ProxyIPv4() throws {
        let header = Self.v2IPv4(source: [203, 0, 113, 7], sourcePort: 40_000)
        #expect(header.count == 28)
        let parsed = try Self.parse(header + Array("GET".utf8))
        let expected = Header(
            source: try Self.address("203.0.113.7", 40_000), destination: try Self.address("10.0.0.1", 3000),
            version: 2)
        #expect(parsed == .complete(expected, length: 28))
    }

    @Test func v2ProxyIPv6WithTLVs() throws {
        let source: [UInt8] = [0x20, 0x01, 0x0D, 0xB8] + Array(repeating: 0, count: 11) + [0x07]
        let destination: [UInt8] = [0x20, 0x01, 0x0D, 0xB8] + Array(repeating: 0, count: 11) + [0x01]
        // A PP2_TYPE_UNIQUE_ID TLV after the addresses, as HAProxy may add.
        let tlv: [UInt8] = [0x05, 0x00, 0x03, 0x61, 0x62, 0x63]
        let header = Self.v2(family: 0x2, payload: source + destination + [0x9C, 0x40, 0x0B, 0xB8] + tlv)
        guard case .complete(let parsed, let length) = try Self.parse(header) else {
            Issue.record("not complete")
            return
        }
        #expect(length == 16 + 36 + 6)
        #expect(parsed.source == (try Self.address("2001:db8::7", 40_000)))
        #expect(parsed.destination?.port == 3000)
    }

    @Test func v2LocalKeepsTheSocketsAddress() throws {
        // HAProxy's health checks (check-send-proxy): LOCAL, no addresses.
        #expect(
            try Self.parse(Self.v2(command: 0x0, family: 0x0, payload: [])) == .complete(Header(version: 2), length: 16)
        )
        // LOCAL with addresses: they are ignored.
        var local = Self.v2IPv4(source: [203, 0, 113, 7], sourcePort: 1)
        local[12] = 0x20
        #expect(try Self.parse(local) == .complete(Header(version: 2), length: 28))
    }

    @Test func v2UnspecifiedAndUnixFamiliesKeepTheSocketsAddress() throws {
        #expect(try Self.parse(Self.v2(family: 0x0, payload: [])) == .complete(Header(version: 2), length: 16))
        let unix = Self.v2(family: 0x3, payload: Array(repeating: 0, count: 216))
        #expect(try Self.parse(unix) == .complete(Header(version: 2), length: 16 + 216))
    }

    @Test func v2WaitsForAllItsBytes() throws {
        let header = Self.v2IPv4(source: [203, 0, 113, 7], sourcePort: 40_000)
        for end in 1..<header.count {
            #expect(try Self.parse(Array(header.prefix(end))) == .incomplete, "\(end) bytes")
        }
    }

    @Test func malformedV2IsRefused() {
        let good = Self.v2IPv4(source: [203, 0, 113, 7], sourcePort: 40_000)
        var version1 = good
        version1[12] = 0x11
        var command = good
        command[12] = 0x22
        var family = good
        family[13] = 0x41
        var transport = good
        transport[13] = 0x13
        let shortIPv4 = Self.v2(payload: [1, 2, 3, 4, 5, 6, 7, 8])
        let shortIPv6 = Self.v2(family: 0x2, payload: Array(repeating: 0, count: 35))
        for (name, bytes) in [
            ("version 1 in the binary form", version1), ("command 2", command), ("family 4", family),
            ("transport 3", transport), ("IPv4 addresses too short", shortIPv4),
            ("IPv6 addresses too short", shortIPv6),
        ] {
            guard case .malformed = Self.failure(bytes) else {
                Issue.record("\(name): \(String(describing: Self.failure(bytes)))")
                continue
            }
        }
    }

    @Test func v2LengthIsBounded() {
        // The length field alone refuses it: no need to wait for 64 KiB that may never come.
        var huge = Header.v2Signature + [0x21, 0x11, 0xFF, 0xFF]
        #expect(Self.failure(huge) == .tooLong)
        huge = Self.v2(payload: Array(repeating: 0, count: Header.v2MaximumLength - 16 + 1))
        #expect(Self.failure(huge) == .tooLong)
        let largest = Self.v2(payload: Array(repeating: 0, count: Header.v2MaximumLength - 16))
        #expect(throws: Never.self) { try Self.parse(largest) }
    }

    // MARK: Not a header

    @Test func aClientThatBypassedTheProxyIsNoHeader() throws {
        for request in [
            "GET /ocpp/CP-1 HTTP/1.1\r\n", "\u{16}\u{03}\u{01}", "PROX\r\n", "PRIXY ", "\r\n\r\n\0\r\nQUIX\n",
        ] {
            #expect(Self.failure(Array(request.utf8)) == .missing, "\(request.debugDescription)")
        }
        #expect(try Self.parse([UInt8]()) == .incomplete)
    }

    /// Random bytes, and valid headers with random bytes changed, cut or appended: the
    /// parser answers every one (complete, incomplete or an error) and never reads past
    /// its bounds, never traps.
    @Test func randomBytesNeverCrashTheParser() throws {
        var random = SplitMix64(seed: 0x5052_4F58_5921)
        let seeds: [[UInt8]] = [
            Array("PROXY TCP4 192.0.2.10 198.51.100.2 56324 3000\r\n".utf8),
            Array("PROXY TCP6 2001:db8::7 2001:db8::1 65535 443\r\n".utf8),
            Array("PROXY UNKNOWN\r\n".utf8),
            Self.v2IPv4(source: [203, 0, 113, 7], sourcePort: 40_000),
            Self.v2(family: 0x2, payload: Array(repeating: 1, count: 40)),
            Self.v2(command: 0, family: 0, payload: []),
        ]
        var outcomes = [String: Int]()
        for round in 0..<20_000 {
            var bytes: [UInt8]
            if round % 4 == 0 {
                bytes = (0..<Int.random(in: 0...300, using: &random)).map { _ in
                    UInt8.random(in: 0...255, using: &random)
                }
            } else {
                bytes = seeds[Int.random(in: 0..<seeds.count, using: &random)]
                for _ in 0..<Int.random(in: 1...4, using: &random) where !bytes.isEmpty {
                    switch Int.random(in: 0..<4, using: &random) {
                    case 0:
                        bytes[Int.random(in: 0..<bytes.count, using: &random)] = UInt8.random(
                            in: 0...255, using: &random)
                    case 1: bytes.removeLast(Int.random(in: 0...bytes.count, using: &random))
                    case 2:
                        bytes += (0..<Int.random(in: 1...64, using: &random)).map { _ in
                            UInt8.random(in: 0...255, using: &random)
                        }
                    default:
                        // A length field pointing anywhere.
                        if bytes.count > 15 { bytes[14] = UInt8.random(in: 0...255, using: &random) }
                    }
                }
            }
            do {
                switch try Header.parse(bytes) {
                case .incomplete: outcomes["incomplete", default: 0] += 1
                case .complete(_, let length):
                    #expect(length <= bytes.count)
                    #expect(length <= Header.v2MaximumLength)
                    outcomes["complete", default: 0] += 1
                }
            } catch {
                outcomes[error.label, default: 0] += 1
            }
        }
        // The mutations reach every outcome.
        for outcome in ["incomplete", "complete", "missing", "malformed", "too_long"] {
            #expect(outcomes[outcome, default: 0] > 0, "\(outcome): \(outcomes)")
        }
    }

    // MARK: Setting

    @Test func theSettingIsOffOrOn() throws {
        func resolve(_ value: String?) throws(ConfigurationError) -> GatewaySettings.ProxyProtocolMode {
            var environment = ["DATABASE_URL": "postgres://u@localhost/db"]
            environment["OCPP_PROXY_PROTOCOL"] = value
            return try (try! GatewayOptions.parse([])).resolve(environment: environment).0.proxyProtocol
        }
        #expect(try resolve(nil) == .off)
        #expect(try resolve("on") == .on)
        #expect(try resolve("OFF") == .off)
        #expect(throws: ConfigurationError.self) { try resolve("v2") }
        do {
            _ = try resolve("yes please")
        } catch {
            #expect(error.setting == "OCPP_PROXY_PROTOCOL")
        }
    }
}
