/// How payloads are read.
public struct DecodingOptions: Sendable {
    /// Strict (the schemas) or tolerant (the schemas plus the known quirks of real
    /// chargers, see ``ToleratedQuirk``).
    public var mode: ValidationMode

    /// The JSON Schema draft of the message's schema. The OCPP 1.6 schemas are
    /// draft-04, where `1.0` is not an integer; the security whitepaper's are draft-06,
    /// where it is. ``OCPPAction/decodeRequest(_:options:)`` sets it per action.
    public var schemaDraft: JSONSchemaDraft

    /// Told about every quirk accepted in tolerant mode; nil: nobody counts them.
    public var quirkObserver: (any ToleratedQuirkObserver)?

    /// The longest string tolerant decoding keeps when a field is over its CiString
    /// limit (in characters). The longest limit in OCPP 1.6 is 500 (CiString500);
    /// chargers that overrun a limit do so by a few characters, and the cap keeps a
    /// station from storing unbounded text in fields meant to be short.
    public static let tolerantStringCap = 1_000

    public init(
        mode: ValidationMode = .strict, schemaDraft: JSONSchemaDraft = .draft04,
        quirkObserver: (any ToleratedQuirkObserver)? = nil
    ) {
        self.mode = mode
        self.schemaDraft = schemaDraft
        self.quirkObserver = quirkObserver
    }

    public static let strict = DecodingOptions(mode: .strict)
    public static let tolerant = DecodingOptions(mode: .tolerant)

    public var isTolerant: Bool { mode == .tolerant }

    /// Counts a quirk that tolerant decoding accepted.
    func noteTolerated(_ quirk: ToleratedQuirk) {
        quirkObserver?.tolerated(quirk)
    }
}

/// The JSON Schema drafts the OCPP 1.6 schemas are written in; they differ in what
/// counts as an integer.
public enum JSONSchemaDraft: Sendable, Hashable {
    /// An integer is a number written without fraction or exponent.
    case draft04
    /// An integer is any number with a zero fractional part (`17.0` included).
    case draft06
}
