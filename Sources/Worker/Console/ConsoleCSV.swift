import Foundation

/// Comma-separated values as RFC 4180 writes them, for the console's downloads.
enum ConsoleCSV {
    /// One field: quoted when it holds a comma, a quote or a line break (quotes
    /// doubled). Text that a spreadsheet would run as a formula (starting with `=`,
    /// `+`, `@`, a tab or a carriage return) gets a leading `'`.
    static func field(_ value: String?) -> String {
        guard var text = value else { return "" }
        if let first = text.unicodeScalars.first, "=+@\t\r".unicodeScalars.contains(first) { text = "'" + text }
        guard text.unicodeScalars.contains(where: { ",\"\n\r".unicodeScalars.contains($0) }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// One record, ended by CRLF.
    static func row(_ values: [String?]) -> String {
        values.map(field).joined(separator: ",") + "\r\n"
    }
}
