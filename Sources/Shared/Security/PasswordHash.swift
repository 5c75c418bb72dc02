import Crypto
import Foundation
import OCPP
import _CryptoExtras

/// Station passwords (the OCPP AuthorizationKey of security profiles 1 and 2), kept
/// only as salted hashes, never in the clear.
///
/// Two forms, chosen by where the secret came from:
/// - A password an operator chose may be guessable, so it is stored with scrypt,
///   slow by design: `scrypt$<log2 N>$<r>$<p>$<salt, base64>$<hash, base64>` (the
///   cost is in the stored value, so it can be raised later).
/// - A secret this system generated (``make(generatedSecret:)``: 20 characters drawn
///   from 62 by the system's random generator, about 119 bits) cannot be guessed, and
///   a slow hash would protect nothing: trying 2^118 candidates is out of reach at any
///   speed. It is stored as `sha256$<salt, base64>$<SHA-256 of salt and secret,
///   base64>`, which costs a microsecond to check instead of tens of milliseconds, so a
///   fleet of 10,000 stations can log in again at once (docs/BENCHMARKS.md, storm).
public enum PasswordHash {
    /// scrypt cost: N = 2^14, r = 8, p = 1 (16 MiB, tens of milliseconds), the
    /// interactive-login parameters of the scrypt paper.
    static let logRounds = 14
    static let blockSize = 8
    static let parallelism = 1
    static let saltByteCount = 16
    static let hashByteCount = 32

    public static func make(password: String) throws -> String {
        var generator = SystemRandomNumberGenerator()
        let salt = (0..<saltByteCount).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let hash = try derive(
            password, salt: salt, logRounds: logRounds, blockSize: blockSize, parallelism: parallelism)
        return [
            "scrypt", "\(logRounds)", "\(blockSize)", "\(parallelism)",
            Data(salt).base64EncodedString(), Data(hash).base64EncodedString(),
        ].joined(separator: "$")
    }

    /// The stored form of a secret this system generated at random (see the type's
    /// comment); never for a password someone chose.
    public static func make(generatedSecret secret: String) -> String {
        var generator = SystemRandomNumberGenerator()
        let salt = (0..<saltByteCount).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return ["sha256", Data(salt).base64EncodedString(), Data(digest(secret, salt: salt)).base64EncodedString()]
            .joined(separator: "$")
    }

    /// Whether `password` matches `stored`. A malformed stored value never matches.
    public static func verify(password: String, against stored: String) -> Bool {
        let parts = stored.split(separator: "$", omittingEmptySubsequences: false)
        if parts.count == 3, parts[0] == "sha256" {
            guard let salt = Data(base64Encoded: String(parts[1])),
                let expected = Data(base64Encoded: String(parts[2])), expected.count == SHA256.byteCount
            else { return false }
            return constantTimeEqual(digest(password, salt: Array(salt)), Array(expected))
        }
        guard parts.count == 6, parts[0] == "scrypt",
            let logRounds = Int(parts[1]), (1...20).contains(logRounds),
            let blockSize = Int(parts[2]), (1...32).contains(blockSize),
            let parallelism = Int(parts[3]), (1...16).contains(parallelism),
            let salt = Data(base64Encoded: String(parts[4])),
            let expected = Data(base64Encoded: String(parts[5])), !expected.isEmpty,
            let actual = try? derive(
                password, salt: Array(salt), logRounds: logRounds, blockSize: blockSize, parallelism: parallelism,
                outputByteCount: expected.count)
        else { return false }
        return constantTimeEqual(actual, Array(expected))
    }

    /// Constant time, so that timing does not tell how much of a guess was right.
    private static func constantTimeEqual(_ left: [UInt8], _ right: [UInt8]) -> Bool {
        guard left.count == right.count else { return false }
        var difference: UInt8 = 0
        for (a, b) in zip(left, right) { difference |= a ^ b }
        return difference == 0
    }

    private static func digest(_ secret: String, salt: [UInt8]) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: salt)
        hasher.update(data: Array(secret.utf8))
        return Array(hasher.finalize())
    }

    private static func derive(
        _ password: String, salt: [UInt8], logRounds: Int, blockSize: Int, parallelism: Int,
        outputByteCount: Int = hashByteCount
    ) throws -> [UInt8] {
        let key = try KDF.Scrypt.deriveKey(
            from: Array(password.utf8), salt: salt, outputByteCount: outputByteCount, rounds: 1 << logRounds,
            blockSize: blockSize, parallelism: parallelism)
        return key.withUnsafeBytes { Array($0) }
    }
}
