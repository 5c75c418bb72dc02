import ArgumentParser
import Foundation
import Testing

@testable import Gateway
@testable import Worker

/// The README's configuration tables say what the programs themselves say in
/// `--help`: the same variables, flags and defaults, so the operator's manual cannot
/// drift from the code.
@Suite struct ReadmeSettingsTests {
    struct Setting: Hashable, CustomStringConvertible {
        var variable: String
        var flag: String
        /// nil where the help names no default (required or unset settings).
        var defaultValue: String?

        var description: String { "\(variable) \(flag) default: \(defaultValue ?? "none")" }
    }

    static let readme = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("README.md")

    @Test func theGatewayTableIsTheGatewaysHelp() throws {
        let help = try Self.settings(inHelpOf: GatewayCommand.self, arguments: ["--experimental-dump-help"])
        Self.expectSame(readme: try Self.table(under: "### Gateway"), help: help)
    }

    @Test func theWorkerTableIsTheWorkersHelp() throws {
        let help = try Self.settings(inHelpOf: WorkerCommand.self, arguments: ["run", "--experimental-dump-help"])
        Self.expectSame(readme: try Self.table(under: "### Worker"), help: help)
    }

    static func expectSame(readme: [Setting], help: [Setting]) {
        let onlyInReadme = Set(readme).subtracting(help).map(\.description).sorted()
        let onlyInHelp = Set(help).subtracting(readme).map(\.description).sorted()
        #expect(onlyInReadme.isEmpty, "README rows that --help does not have: \(onlyInReadme)")
        #expect(onlyInHelp.isEmpty, "--help options the README does not list: \(onlyInHelp)")
    }

    /// Each option's flag and the `[env: NAME, default: VALUE]` its help ends with.
    static func settings(inHelpOf command: any ParsableCommand.Type, arguments: [String]) throws -> [Setting] {
        var dump = ""
        do {
            _ = try command.parseAsRoot(arguments)
        } catch {
            dump = command.message(for: error)
        }
        let root = try #require(try JSONSerialization.jsonObject(with: Data(dump.utf8)) as? [String: Any])
        let described = try #require(root["command"] as? [String: Any])
        let options = (described["arguments"] as? [[String: Any]] ?? []).filter { $0["kind"] as? String == "option" }
        return try options.map { option in
            let abstract = option["abstract"] as? String ?? ""
            let flag = (option["preferredName"] as? [String: Any])?["name"] as? String ?? ""
            let environment = try #require(
                abstract.range(of: #"\[env: [^\]]*\]$"#, options: .regularExpression), "no [env: ...] in --\(flag)")
            let parts = abstract[environment].dropFirst("[env: ".count).dropLast()
                .components(separatedBy: ", default: ")
            return Setting(variable: parts[0], flag: "--" + flag, defaultValue: parts.count > 1 ? parts[1] : nil)
        }
    }

    /// The rows `| `NAME` | `--flag` | default | meaning |` of the table under `heading`.
    static func table(under heading: String) throws -> [Setting] {
        let text = try String(contentsOf: readme, encoding: .utf8)
        let start = try #require(text.range(of: "\n" + heading))
        let section = text[start.upperBound...].components(separatedBy: "\n#").first ?? ""
        return section.split(separator: "\n").filter { $0.hasPrefix("| `") }.map { line in
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            let unquoted = cells.map { $0.replacingOccurrences(of: "`", with: "") }
            let defaultValue = unquoted[2].hasPrefix("(") ? nil : unquoted[2]
            return Setting(variable: unquoted[0], flag: unquoted[1], defaultValue: defaultValue)
        }
    }
}
