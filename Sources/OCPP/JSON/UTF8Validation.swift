/// UTF-8 checks for the JSON parser and the WebSocket text messages.
///
/// The standard library's `String(validating:as:)` is generic over the encoding and
/// resolves generic metadata on every call, which made it the parser's largest cost;
/// these non-generic versions keep string creation cheap.
public enum UTF8Validation {
    /// Whether `bytes` is well-formed UTF-8 (RFC 3629: no overlong forms, no
    /// surrogates, nothing above U+10FFFF).
    public static func isValid(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var index = 0
        let count = bytes.count
        while index < count {
            let lead = bytes[index]
            if lead < 0x80 {
                index += 1
                continue
            }
            let length: Int
            var lower: UInt8 = 0x80
            var upper: UInt8 = 0xBF
            switch lead {
            case 0xC2...0xDF: length = 2
            case 0xE0:
                length = 3
                lower = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED:
                length = 3
                upper = 0x9F
            case 0xF0:
                length = 4
                lower = 0x90
            case 0xF1...0xF3: length = 4
            case 0xF4:
                length = 4
                upper = 0x8F
            default: return false
            }
            guard index + length <= count else { return false }
            let second = bytes[index + 1]
            guard second >= lower, second <= upper else { return false }
            for offset in 2..<max(2, length) where bytes[index + offset] & 0xC0 != 0x80 {
                return false
            }
            index += length
        }
        return true
    }

    /// A string from bytes already known to be valid UTF-8.
    public static func string(fromValidated bytes: UnsafeRawBufferPointer) -> String {
        // The UTF8 specialisation of String(decoding:as:) over a byte buffer is the
        // standard library's fastest way in; it re-checks, but finds nothing to repair.
        String(decoding: bytes.assumingMemoryBound(to: UInt8.self), as: UTF8.self)
    }
}
