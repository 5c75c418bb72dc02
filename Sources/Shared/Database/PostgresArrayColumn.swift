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
///
/// Inlinable, so that the modules that build columns specialize it for their
/// element types: unspecialized, each append looked up generic metadata and called
/// through witness tables (a tenth of the worker's time, `perf`).
public struct PostgresArrayColumn<Element: PostgresArrayColumnElement>: Sendable {
    /// Each element: its length in bytes (big-endian Int32, -1 for NULL) and its bytes.
    @usableFromInline var elements: [UInt8] = []
    @usableFromInline var elementCount = 0
    public var count: Int { elementCount }
    @usableFromInline var holdsNULL = false

    /// `capacity`: the elements to expect (sizes the buffer for fixed-length ones).
    @inlinable
    public init(capacity: Int = 0) {
        elements.reserveCapacity(capacity * (4 + Element.typicalLength))
    }

    @inlinable
    public init(_ elements: some Sequence<Element>) {
        self.init(capacity: elements.underestimatedCount)
        for element in elements { append(element) }
    }

    @inlinable
    public init(_ elements: some Sequence<Element?>) {
        self.init(capacity: elements.underestimatedCount)
        for element in elements { append(element) }
    }

    @inlinable
    public mutating func append(_ element: Element) {
        elementCount += 1
        appendLength(Int32(element.binaryLength))
        element.appendBinary(to: &elements)
    }

    @inlinable
    public mutating func append(_ element: Element?) {
        guard let element else {
            elementCount += 1
            holdsNULL = true
            appendLength(-1)
            return
        }
        append(element)
    }

    @inlinable
    mutating func appendLength(_ length: Int32) {
        withUnsafeBytes(of: length.bigEndian) { elements.append(contentsOf: $0) }
    }
}

extension PostgresArrayColumn where Element == String {
    /// Appends text given as its UTF-8 bytes (JSON the caller wrote), making no
    /// `String` of them. PostgreSQL checks the encoding as it reads the array.
    @inlinable
    public mutating func append(utf8 text: some Collection<UInt8>) {
        elementCount += 1
        appendLength(Int32(text.count))
        elements.append(contentsOf: text)
    }
}

extension PostgresArrayColumn: PostgresNonThrowingEncodable {
    public static var psqlType: PostgresDataType { Element.arrayType }
    public static var psqlFormat: PostgresFormat { .binary }

    /// The binary array format (`array_recv`): dimensions (0 when empty), has-NULLs
    /// flag, element type, then the one dimension's length and lower bound (1), then
    /// the elements.
    @inlinable
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
    @inlinable public static var typicalLength: Int { MemoryLayout<Self>.size }
    @inlinable public var binaryLength: Int { MemoryLayout<Self>.size }
    @inlinable public func appendBinary(to bytes: inout [UInt8]) {
        withUnsafeBytes(of: bigEndian) { bytes.append(contentsOf: $0) }
    }
}

extension Int64: PostgresArrayColumnElement {
    @inlinable public static var elementType: PostgresDataType { .int8 }
    @inlinable public static var arrayType: PostgresDataType { .int8Array }
}

extension Int32: PostgresArrayColumnElement {
    @inlinable public static var elementType: PostgresDataType { .int4 }
    @inlinable public static var arrayType: PostgresDataType { .int4Array }
}

extension Bool: PostgresArrayColumnElement {
    @inlinable public static var elementType: PostgresDataType { .bool }
    @inlinable public static var arrayType: PostgresDataType { .boolArray }
    @inlinable public static var typicalLength: Int { 1 }
    @inlinable public var binaryLength: Int { 1 }
    @inlinable public func appendBinary(to bytes: inout [UInt8]) { bytes.append(self ? 1 : 0) }
}

extension Double: PostgresArrayColumnElement {
    @inlinable public static var elementType: PostgresDataType { .float8 }
    @inlinable public static var arrayType: PostgresDataType { .float8Array }
    @inlinable public static var typicalLength: Int { 8 }
    @inlinable public var binaryLength: Int { 8 }
    /// float8send's form: the bit pattern, big-endian.
    @inlinable public func appendBinary(to bytes: inout [UInt8]) {
        withUnsafeBytes(of: bitPattern.bigEndian) { bytes.append(contentsOf: $0) }
    }
}

extension String: PostgresArrayColumnElement {
    @inlinable public static var elementType: PostgresDataType { .text }
    @inlinable public static var arrayType: PostgresDataType { .textArray }
    @inlinable public static var typicalLength: Int { 16 }
    @inlinable public var binaryLength: Int { utf8.count }
    @inlinable public func appendBinary(to bytes: inout [UInt8]) { bytes.append(contentsOf: utf8) }
}

/// A `bytea` element.
public struct PostgresBytes: PostgresArrayColumnElement, Hashable {
    public var bytes: [UInt8]

    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    @inlinable public static var elementType: PostgresDataType { .bytea }
    @inlinable public static var arrayType: PostgresDataType { .byteaArray }
    @inlinable public static var typicalLength: Int { 32 }
    @inlinable public var binaryLength: Int { bytes.count }
    @inlinable public func appendBinary(to bytes: inout [UInt8]) { bytes.append(contentsOf: self.bytes) }
}

extension PostgresTimestamp: PostgresArrayColumnElement {
    @inlinable public static var elementType: PostgresDataType { .timestamptz }
    @inlinable public static var arrayType: PostgresDataType { .timestamptzArray }
    @inlinable public static var typicalLength: Int { 8 }
    @inlinable public var binaryLength: Int { 8 }
    @inlinable public func appendBinary(to bytes: inout [UInt8]) { microsecondsSince2000.appendBinary(to: &bytes) }
}
