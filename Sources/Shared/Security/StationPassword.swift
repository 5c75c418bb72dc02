/// The secret a station sends as its HTTP Basic password (security profiles 1 and 2),
/// in the forms the OCPP 1.6 security whitepaper (edition 3) and real stations use.
///
/// The whitepaper's AuthorizationKey is 16 to 20 bytes, configured on the station
/// (ChangeConfiguration AuthorizationKey) as up to 40 hexadecimal digits. Stations
/// then send either those bytes as text (a key that is printable ASCII) or the hex
/// digits themselves; operators also provision plain passwords of 16 to 40
/// characters (OCPP 2.0.1's rule, common in 1.6 fleets). One station password is
/// stored as one hash: of the text for a password, of the upper-case hex digits for
/// a key given in hex; ``candidates(for:)`` lists what a received password is
/// checked as, so that every form of the same secret opens the door.
public enum StationPassword {
    /// A password provisioned as text: printable ASCII without spaces.
    public static let passwordLength = 16...40
    /// The AuthorizationKey's size in bytes (32 to 40 hex digits).
    public static let keyByteCount = 16...20

    /// A made-up password: 20 characters (the longest an AuthorizationKey carries, so it
    /// can be pushed) from 62, about 119 bits from the system's random generator.
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        return String((0..<generatedLength).map { _ in generatedAlphabet.randomElement(using: &generator)! })
    }

    static let generatedLength = 20
    static let generatedAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")

    /// Whether `password` can be provisioned as a text password.
    public static func isValidPassword(_ password: String) -> Bool {
        passwordLength.contains(password.utf8.count)
            && password.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }
    }

    /// `text` as an AuthorizationKey in hex (32 to 40 hexadecimal digits, an even
    /// number), upper-cased; nil when it is not one.
    public static func authorizationKey(_ text: String) -> String? {
        let digits = text.utf8
        guard digits.count.isMultiple(of: 2), keyByteCount.contains(digits.count / 2),
            digits.allSatisfy(isHexDigit)
        else { return nil }
        return text.uppercased()
    }

    /// The AuthorizationKey that makes a station use `password`: its bytes in hex;
    /// nil for a password longer than a key can hold (20 bytes).
    public static func authorizationKey(forPassword password: String) -> String? {
        guard keyByteCount.contains(password.utf8.count) else { return nil }
        return password.utf8.map { hexDigits[Int($0 >> 4)] + hexDigits[Int($0 & 0x0F)] }.joined()
    }

    /// What a received Basic password is checked against the stored hash as, the
    /// likeliest first: a hex key as provisioned (upper case), the text a pushed key
    /// stands for (a station that sends the hex form of its AuthorizationKey), and
    /// the password as received.
    public static func candidates(for received: String) -> [String] {
        guard let key = authorizationKey(received) else { return [received] }
        var candidates = [key]
        if let text = printableText(ofHex: key), text != key { candidates.append(text) }
        if received != key { candidates.append(received) }
        return candidates
    }

    // MARK: Hex

    private static let hexDigits = (0..<16).map { String($0, radix: 16, uppercase: true) }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "f"),
            UInt8(ascii: "A")...UInt8(ascii: "F"):
            true
        default: false
        }
    }

    /// The bytes that upper-case hex digits stand for, as text, when they are
    /// printable ASCII (what a password pushed as a key was).
    private static func printableText(ofHex hex: String) -> String? {
        let digits = Array(hex.utf8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        for index in stride(from: 0, to: digits.count, by: 2) {
            guard let high = value(ofHexDigit: digits[index]), let low = value(ofHexDigit: digits[index + 1]) else {
                return nil
            }
            bytes.append(high << 4 | low)
        }
        guard bytes.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func value(ofHexDigit digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
