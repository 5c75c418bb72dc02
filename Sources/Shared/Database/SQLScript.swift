/// Splits a SQL script into its statements.
///
/// PostgresNIO speaks only the extended query protocol, which takes one statement at
/// a time, so migration files are cut at top-level semicolons. Semicolons inside
/// string literals, quoted identifiers, dollar-quoted bodies (`$$ ... $$`,
/// `$tag$ ... $tag$`) and comments do not split.
public enum SQLScript {
    public static func statements(in script: String) -> [String] {
        let bytes = Array(script.utf8)
        var statements: [String] = []
        var start = 0
        var index = 0

        func skip(past terminator: [UInt8], from position: Int) -> Int {
            var cursor = position
            while cursor + terminator.count <= bytes.count {
                if Array(bytes[cursor..<cursor + terminator.count]) == terminator { return cursor + terminator.count }
                cursor += 1
            }
            return bytes.count
        }

        func flush(upTo end: Int) {
            let text = String(decoding: bytes[start..<end], as: UTF8.self)
            if containsCode(text) { statements.append(text.trimmingWhitespace()) }
        }

        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "'"):
                index = skipQuoted(bytes, from: index, quote: UInt8(ascii: "'"))
            case UInt8(ascii: "\""):
                index = skipQuoted(bytes, from: index, quote: UInt8(ascii: "\""))
            case UInt8(ascii: "-") where index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "-"):
                index = skip(past: [0x0A], from: index)
            case UInt8(ascii: "/") where index + 1 < bytes.count && bytes[index + 1] == UInt8(ascii: "*"):
                index = skip(past: Array("*/".utf8), from: index + 2)
            case UInt8(ascii: "$"):
                if let tag = dollarTag(bytes, at: index) {
                    index = skip(past: tag, from: index + tag.count)
                } else {
                    index += 1
                }
            case UInt8(ascii: ";"):
                flush(upTo: index)
                index += 1
                start = index
            default:
                index += 1
            }
        }
        flush(upTo: bytes.count)
        return statements
    }

    /// The end of a quoted literal or identifier; a doubled quote is an escaped quote.
    private static func skipQuoted(_ bytes: [UInt8], from position: Int, quote: UInt8) -> Int {
        var cursor = position + 1
        while cursor < bytes.count {
            if bytes[cursor] == quote {
                if cursor + 1 < bytes.count, bytes[cursor + 1] == quote {
                    cursor += 2
                    continue
                }
                return cursor + 1
            }
            cursor += 1
        }
        return bytes.count
    }

    /// `$$` or `$tag$` starting at `position`, or nil when the `$` is a parameter or
    /// part of an identifier.
    private static func dollarTag(_ bytes: [UInt8], at position: Int) -> [UInt8]? {
        var cursor = position + 1
        while cursor < bytes.count {
            let byte = bytes[cursor]
            if byte == UInt8(ascii: "$") { return Array(bytes[position...cursor]) }
            let isTagCharacter =
                (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z")) || byte == UInt8(ascii: "_")
                || (cursor > position + 1 && byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
            guard isTagCharacter else { return nil }
            cursor += 1
        }
        return nil
    }

    /// Whether a fragment has anything but whitespace and comments.
    private static func containsCode(_ text: String) -> Bool {
        for line in text.split(separator: "\n") {
            let trimmed = line.drop { $0 == " " || $0 == "\t" || $0 == "\r" }
            if !trimmed.isEmpty, !trimmed.hasPrefix("--") { return true }
        }
        return false
    }
}

extension String {
    fileprivate func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0.isWhitespace }
        return String(self.drop(while: isSpace).reversed().drop(while: isSpace).reversed())
    }
}
