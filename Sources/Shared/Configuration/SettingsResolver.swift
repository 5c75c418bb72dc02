import Foundation

/// Reads settings the 12-factor way: a command-line flag wins over an environment
/// variable, which wins over the default. Every mistake becomes a
/// ``ConfigurationError`` naming the environment variable, so a process can stop
/// with one clear line.
public struct SettingsResolver: Sendable {
    private let environment: [String: String]

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
    }

    /// The raw text of a setting, or nil when neither flag nor variable is set.
    public func text(_ name: String, flag: String?) -> String? {
        if let flag { return flag }
        if let value = environment[name], !value.isEmpty { return value }
        return nil
    }

    public func string(_ name: String, flag: String?, default defaultValue: String) -> String {
        text(name, flag: flag) ?? defaultValue
    }

    public func requiredString(_ name: String, flag: String?, flagName: String) throws(ConfigurationError) -> String {
        guard let value = text(name, flag: flag) else {
            throw ConfigurationError(setting: name, reason: "is not set (or pass --\(flagName))")
        }
        return value
    }

    public func integer(
        _ name: String, flag: String?, default defaultValue: Int, range: ClosedRange<Int>
    )
        throws(ConfigurationError) -> Int
    {
        guard let text = text(name, flag: flag) else { return defaultValue }
        guard let value = Int(text.trimmingCharacters(in: .whitespaces)), range.contains(value) else {
            throw ConfigurationError(
                setting: name, reason: "must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    /// A duration given as a whole number of `unit`s.
    public func duration(
        _ name: String, flag: String?, default defaultValue: Duration, unit: Duration, range: ClosedRange<Int>
    ) throws(ConfigurationError) -> Duration {
        guard text(name, flag: flag) != nil else { return defaultValue }
        return unit * (try integer(name, flag: flag, default: 0, range: range))
    }

    public func boolean(_ name: String, flag: String?, default defaultValue: Bool) throws(ConfigurationError) -> Bool {
        guard let text = text(name, flag: flag)?.lowercased() else { return defaultValue }
        switch text {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default: throw ConfigurationError(setting: name, reason: "must be true or false")
        }
    }

    public func choice<Choice: RawRepresentable & CaseIterable>(
        _ name: String, flag: String?, default defaultValue: Choice
    ) throws(ConfigurationError) -> Choice where Choice.RawValue == String {
        guard let text = text(name, flag: flag) else { return defaultValue }
        guard let value = Choice(rawValue: text.lowercased()) else {
            let allowed = Choice.allCases.map(\.rawValue).joined(separator: ", ")
            throw ConfigurationError(setting: name, reason: "must be one of: \(allowed)")
        }
        return value
    }
}
