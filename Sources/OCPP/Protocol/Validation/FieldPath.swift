/// One step into a JSON document: an object key or an array index.
public enum FieldPathComponent: Sendable, Hashable {
    case key(String)
    case index(Int)
}

/// Where in a payload a validation error was found, rendered as
/// `meterValue[0].sampledValue[2].measurand`.
///
/// Paths are only built when validation fails: each level prepends its own step while
/// the error travels up, so a valid payload costs nothing for them.
public struct FieldPath: Sendable, Hashable, CustomStringConvertible {
    /// Innermost step first; reversed once for display.
    private var reversedComponents: [FieldPathComponent]

    public static let root = FieldPath(reversedComponents: [])

    private init(reversedComponents: [FieldPathComponent]) {
        self.reversedComponents = reversedComponents
    }

    public init(_ components: [FieldPathComponent]) {
        self.reversedComponents = components.reversed()
    }

    public var components: [FieldPathComponent] { reversedComponents.reversed() }

    public var isRoot: Bool { reversedComponents.isEmpty }

    /// The path with `component` put in front, as a containing level sees it.
    func prepending(_ component: FieldPathComponent) -> FieldPath {
        var copy = self
        copy.reversedComponents.append(component)
        return copy
    }

    public var description: String {
        var text = ""
        for component in components {
            switch component {
            case .key(let key):
                if !text.isEmpty { text += "." }
                text += key
            case .index(let index):
                text += "[\(index)]"
            }
        }
        return text
    }
}
