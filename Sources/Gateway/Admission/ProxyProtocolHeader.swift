import NIOCore

/// The header a proxy (HAProxy `send-proxy` / `send-proxy-v2`, AWS NLB, ...) writes at the
/// start of each connection it opens to the gateway, naming the client it accepted the
/// connection from: the PROXY protocol, versions 1 (text) and 2 (binary), as specified
/// in haproxy's doc/proxy-protocol.txt.
///
/// A pure parser: it is given the bytes received so far and says whether they start with
/// a complete header, need more bytes, or cannot be one. It never reads beyond its
/// bounds: a version 1 header is at most 107 bytes, a version 2 header at most
/// ``v2MaximumLength``.
struct ProxyProtocolHeader: Equatable, Sendable {
    /// The client the proxy accepted the connection from; nil when the header names none
    /// (version 2 `LOCAL`, as in the proxy's own health checks, version 1 `UNKNOWN`, or an
    /// address family other than IPv4 and IPv6): the socket's own peer is the client then.
    var source: SocketAddress?
    /// Where the client connected to on the proxy, when named.
    var destination: SocketAddress?
    var version: Int

    /// The longest version 1 header, "\r\n" included (the specification's bound).
    static let v1MaximumLength = 107
    /// The longest version 2 header we accept: the 16 fixed bytes and up to 2 KiB of
    /// addresses and TLVs (the addresses take at most 216 bytes; proxies add a few TLVs).
    static let v2MaximumLength = 16 + 2048

    static let v2Signature: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A]
    private static let v1Prefix = Array("PROXY ".utf8)

    enum Failure: Error, Equatable, Sendable {
        /// The bytes are not the start of a PROXY header (a client that connected
        /// directly, bypassing the proxy).
        case missing
        /// It started as one, but is not a valid header.
        case malformed(String)
        /// Longer than the bounds above.
        case tooLong

        /// A short label, for metrics.
        var label: String {
            switch self {
            case .missing: "missing"
            case .malformed: "malformed"
            case .tooLong: "too_long"
            }
        }
    }

    enum Parsed: Equatable, Sendable {
        /// The bytes so far could be the start of a header: read more.
        case incomplete
        /// A header of `length` bytes; whatever follows belongs to the client.
        case complete(ProxyProtocolHeader, length: Int)
    }

    /// Parses the header at the start of `bytes`.
    static func parse(_ bytes: some RandomAccessCollection<UInt8>) throws(Failure) -> Parsed {
        let bytes = Array(bytes.prefix(v2MaximumLength))
        guard let first = bytes.first else { return .incomplete }
        if first == v1Prefix[0] { return try parseV1(bytes) }
        if first == v2Signature[0] { return try parseV2(bytes) }
        throw .missing
    }

    // MARK: Version 1

    /// "PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n", "PROXY TCP6 ...", "PROXY UNKNOWN ...\r\n".
    private static func parseV1(_ bytes: [UInt8]) throws(Failure) -> Parsed {
        let prefixLength = min(bytes.count, v1Prefix.count)
        guard bytes[..<prefixLength].elementsEqual(v1Prefix[..<prefixLength]) else { throw .missing }
        let window = bytes.prefix(v1MaximumLength)
        guard let lineFeed = window.firstIndex(of: 0x0A) else {
            if bytes.count >= v1MaximumLength { throw .tooLong }
            return .incomplete
        }
        guard lineFeed > 0, bytes[lineFeed - 1] == 0x0D else { throw .malformed("line does not end with CRLF") }
        let line = bytes[v1Prefix.count..<(lineFeed - 1)]
        guard line.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else { throw .malformed("not printable ASCII") }
        let fields = line.split(separator: 0x20, omittingEmptySubsequences: false).map {
            String(decoding: $0, as: UTF8.self)
        }
        let length = lineFeed + 1
        switch fields.first {
        case "UNKNOWN":
            // The receiver must ignore anything after UNKNOWN.
            return .complete(ProxyProtocolHeader(source: nil, destination: nil, version: 1), length: length)
        case "TCP4", "TCP6":
            guard fields.count == 5 else { throw .malformed("expected 5 fields after PROXY, found \(fields.count)") }
            let family: NIOBSDSocket.ProtocolFamily = fields[0] == "TCP4" ? .inet : .inet6
            let source = try v1Address(fields[1], port: fields[3], family: family)
            let destination = try v1Address(fields[2], port: fields[4], family: family)
            return .complete(ProxyProtocolHeader(source: source, destination: destination, version: 1), length: length)
        default:
            throw .malformed("unknown protocol")
        }
    }

    private static func v1Address(
        _ address: String, port: String, family: NIOBSDSocket.ProtocolFamily
    ) throws(Failure) -> SocketAddress {
        // Decimal, 0 to 65535, no sign and no leading zero (the specification's form).
        guard (1...5).contains(port.utf8.count), port.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
            port == "0" || !port.hasPrefix("0"), let number = Int(port), number <= 65535
        else { throw .malformed("invalid port") }
        guard address.utf8.count <= 45, let socketAddress = try? SocketAddress(ipAddress: address, port: number),
            socketAddress.protocol == family
        else { throw .malformed("invalid address") }
        return socketAddress
    }

    // MARK: Version 2

    /// 12 bytes of signature, version and command, family and transport, a big-endian
    /// length, then the addresses and optional TLVs.
    private static func parseV2(_ bytes: [UInt8]) throws(Failure) -> Parsed {
        let signatureLength = min(bytes.count, v2Signature.count)
        guard bytes[..<signatureLength].elementsEqual(v2Signature[..<signatureLength]) else { throw .missing }
        guard bytes.count >= 16 else { return .incomplete }
        let versionAndCommand = bytes[12]
        guard versionAndCommand >> 4 == 2 else { throw .malformed("unsupported version") }
        let payloadLength = Int(bytes[14]) << 8 | Int(bytes[15])
        let length = 16 + payloadLength
        guard length <= v2MaximumLength else { throw .tooLong }
        guard bytes.count >= length else { return .incomplete }
        let payload = bytes[16..<length]
        switch versionAndCommand & 0x0F {
        case 0x0:
            // LOCAL: the proxy speaking for itself (health checks); the addresses, if any,
            // are to be ignored.
            return .complete(ProxyProtocolHeader(source: nil, destination: nil, version: 2), length: length)
        case 0x1:
            break
        default:
            throw .malformed("unknown command")
        }
        let family = bytes[13] >> 4
        let transport = bytes[13] & 0x0F
        guard transport <= 2 else { throw .malformed("unknown transport protocol") }
        switch family {
        case 0x1:
            guard payload.count >= 12 else { throw .malformed("IPv4 addresses too short") }
            let start = payload.startIndex
            let source = ipv4(payload[start..<start + 4], port: payload[start + 8..<start + 10])
            let destination = ipv4(payload[start + 4..<start + 8], port: payload[start + 10..<start + 12])
            return .complete(ProxyProtocolHeader(source: source, destination: destination, version: 2), length: length)
        case 0x2:
            guard payload.count >= 36 else { throw .malformed("IPv6 addresses too short") }
            let start = payload.startIndex
            let source = ipv6(payload[start..<start + 16], port: payload[start + 32..<start + 34])
            let destination = ipv6(payload[start + 16..<start + 32], port: payload[start + 34..<start + 36])
            return .complete(ProxyProtocolHeader(source: source, destination: destination, version: 2), length: length)
        case 0x0, 0x3:
            // UNSPEC or a UNIX socket: no address we could use; the connection's own stands.
            return .complete(ProxyProtocolHeader(source: nil, destination: nil, version: 2), length: length)
        default:
            throw .malformed("unknown address family")
        }
    }

    private static func port(_ bytes: ArraySlice<UInt8>) -> Int {
        Int(bytes[bytes.startIndex]) << 8 | Int(bytes[bytes.startIndex + 1])
    }

    private static func ipv4(_ address: ArraySlice<UInt8>, port: ArraySlice<UInt8>) -> SocketAddress? {
        try? SocketAddress(ipAddress: address.map { String($0) }.joined(separator: "."), port: Self.port(port))
    }

    private static func ipv6(_ address: ArraySlice<UInt8>, port: ArraySlice<UInt8>) -> SocketAddress? {
        let groups = stride(from: address.startIndex, to: address.endIndex, by: 2).map { index in
            String(Int(address[index]) << 8 | Int(address[index + 1]), radix: 16)
        }
        return try? SocketAddress(ipAddress: groups.joined(separator: ":"), port: Self.port(port))
    }
}

extension GatewaySettings {
    /// `OCPP_PROXY_PROTOCOL`.
    enum ProxyProtocolMode: String, Sendable, CaseIterable {
        /// Connections come straight from stations (or from a proxy that sends no header).
        case off
        /// Every connection starts with a version 1 or version 2 header.
        case on
    }
}
