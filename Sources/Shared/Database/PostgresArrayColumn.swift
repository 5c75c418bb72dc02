import NIOCore
import PostgresNIO

/// One column of a batch, bound as a one-dimensional binary PostgreSQL array for
/// `unnest`, built element by element; elements may be NULL.
///
/// PostgresNIO encodes `[T]` (no NULLs) into the bind buffer one element at a time,
/// each a length placeholder, the element and the length patched in: three writes
/// through `ByteBuffer`, each with its uniqueness and exclusivity checks. That was
/// a quarter of the worker's CPU time for the meter values' fifteen columns. Here
/// the elements go into a plain byte array as they are appended, the length first
/// (each element knows it), and the bind is one copy.
public struct PostgresArrayColumn<Element: PostgresArrayColumnElement>: Sendable {
    /// Each element: its length in bytes (big-endian Int32, -1 for NULL) and its bytes.
    private var elements: [UInt8] = []
    public private(set) var count = 0
    private var holdsNULL = false

    /// `capacity`: the elements to expect (sizes the buffer for fixed-length ones).
    public init(capacity: Int = 0) {
        elements.reserveCapacity(capacity * (4 + Element.typicalLength))
    }

    public init(_ elements: some Sequence<Element>) {
        self.init(capacity: elements.underestimatedCount)
        for element in elements { append(element) }
    }

    public init(_ elements: some Sequence<Element?>) {
        self.init(capacity: elements.underestimatedCount)
        for element in elements { append(element) }
    }

    public mutating func append(_ element: Element) {
        count += 1
        appendLength(Int32(element.binaryLength))
        element.appendBinary(to: &elements)
    }

    public mutating func append(_ element: Element?) {
        guard let element else {
            count += 1
            holdsNULL = true
            appendLength(-1)
            return
        }
        append(element)
    }

    private mutating func appendLength(_ length: Int32) {
        withUnsafeBytes(of: length.bigEndian) { elements.append(contentsOf: $0) }
    }
}

extension PostgresArrayColumn: PostgresNonThrowingEncodable {
    public static var psqlType: PostgresDataType { Element.arrayType }
    public static var psqlFormat: PostgresFormat { .binary }

    /// The binary array format (`array_recv`): dimensions (0 when empty), has-NULLs
    /// flag, element type, then the one dimension's length and lower bound (1), then
    /// the elements.
    public func encode<JSONEncoder: PostgresJSONEncoder>(
        into buffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>
    ) {
        buffer.reserveCapacity(minimumWritableBytes: 20 + elements.count)
        buffer.writeInteger(count == 0 ? 0 : 1, as: Int32.self)
        buffer.writeInteger(holdsNULL ? 1 : 0, as: Int32.self)
        buffer.writeInteger(Element.elementType.rawValue)
        guard count > 0 else { return }
        buffer.writeInteger(Int32(count))
        buffer.writeInteger(1, as: Int32.self)
        buffer.writeBytes(elements)
    }
}

/// A value a ``PostgresArrayColumn`` holds: its types and its binary form (as the
/// type's `recv` function reads it).
public protocol PostgresArrayColumnElement: Sendable {
    static var elementType: PostgresDataType { get }
    static var arrayType: PostgresDataType { get }
    /// A guess at an element's length in bytes, to size the column's buffer.
    static var typicalLength: Int { get }
    var binaryLength: Int { get }
    func appendBinary(to bytes: inout [UInt8])
}

extension PostgresArrayColumnElement where Self: FixedWidthInteger {
    public static var typicalLength: Int { MemoryLayout<Self>.size }
    public var binaryLength: Int { MemoryLayout<Self>.size }
    public func appendBinary(to bytes: inout [UInt8]) {
        withUnsafeBytes(of: bigEndian) { bytes.append(contentsOf: $0) }
    }
}

extension Int64: PostgresArrayColumnElement {
    public static var elementType: PostgresDataType { .int8 }
    public static var arrayType: PostgresDataType { .int8Array }
}

extension Int32: PostgresArrayColumnElement {
    public static var elementType: PostgresDataType { .int4 }
    public static var arrayType: PostgresDataType { .int4Array }
}

extension Bool: PostgresArrayColumnElement {
    public static var elementType: PostgresDataType { .bool }
    public static var arrayType: PostgresDataType { .boolArray }
    public static var typicalLength: Int { 1 }
    public var binaryLength: Int { 1 }
    public func appendBinary(to bytes: inout [UInt8]) { bytes.append(self ? 1 : 0) }
}

extension Double: PostgresArrayColumnElement {
    public static var elementType: PostgresDataType { .float8 }
    public static var arrayType: PostgresDataType { .float8Array }
    public static var typicalLength: Int { 8 }
    public var binaryLength: Int { 8 }
    /// float8send's form: the bit pattern, big-endian.
    public func appendBinary(to bytes: inout [UInt8]) {
        withUnsafeBytes(of: bitPattern.bigEndian) { bytes.append(contentsOf: $0) }
    }
}

extension String: PostgresArrayColumnElement {
    public static var elementType: PostgresDataType { .text }
    public static var arrayType: PostgresDataType { .textArray }
    public static var typicalLength: Int { 16 }
    public var binaryLength: Int { utf8.count }
    public func appendBinary(to bytes: inout [UInt8]) { bytes.append(contentsOf: utf8) }
}

/// A `bytea` element.
public struct PostgresBytes: PostgresArrayColumnElement, Hashable {
    public var bytes: [UInt8]

    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    public static var elementType: PostgresDataType { .bytea }
    public static var arrayType: PostgresDataType { .byteaArray }
    public static var typicalLength: Int { 32 }
    public var binaryLength: Int { bytes.count }
    public func appendBinary(to bytes: inout [UInt8]) { bytes.append(contentsOf: self.bytes) }
}

extension PostgresTimestamp: PostgresArrayColumnElement {
    public static var elementType: PostgresDataType { .timestamptz }
    public static var arrayType: PostgresDataType { .timestamptzArray }
    public static var typicalLength: Int { 8 }
    public var binaryLength: Int { 8 }
    public func appendBinary(to bytes: inout [UInt8]) { microsecondsSince2000.appendBinary(to: &bytes) }
}
