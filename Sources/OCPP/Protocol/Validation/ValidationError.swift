/// Why a payload was refused: the OCPP error code to answer with, the field it is
/// about, and a reason for people.
///
/// The reason names limits and allowed values but never the offending value itself,
/// so id tags, keys and passwords never reach logs or CALLERROR descriptions.
public struct ValidationError: Error, Sendable, Hashable, CustomStringConvertible {
    public var code: OCPPErrorCode
    public var path: FieldPath
    public var reason: String

    public init(_ code: OCPPErrorCode, _ reason: String, at path: FieldPath = .root) {
        self.code = code
        self.reason = reason
        self.path = path
    }

    /// The error as seen from one level further out.
    func prepending(_ component: FieldPathComponent) -> ValidationError {
        var copy = self
        copy.path = path.prepending(component)
        return copy
    }

    public var description: String {
        path.isRoot ? "\(code.rawValue): \(reason)" : "\(code.rawValue) at \(path): \(reason)"
    }

    static func missing(_ key: String) -> ValidationError {
        ValidationError(.occurenceConstraintViolation, "required field is missing", at: FieldPath([.key(key)]))
    }

    static func wrongType(expected: String, found value: JSONValue) -> ValidationError {
        ValidationError(.typeConstraintViolation, "expected \(expected), found \(value.typeName)")
    }
}
