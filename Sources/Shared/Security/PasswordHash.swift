import Crypto
import Foundation
import _CryptoExtras

/// Station passwords (the OCPP AuthorizationKey of security profiles 1 and 2), kept
/// only as salted scrypt hashes.
///
/// The stored form is `scrypt$<log2 N>$<r>$<p>$<salt, base64>$<hash, base64>`, so the
/// cost can be raised later without invalidating stored hashes.
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

    /// Whether `password` matches `stored`. A malformed stored value never matches.
    public static func verify(password: String, against stored: String) -> Bool {
        let parts = stored.split(separator: "$", omittingEmptySubsequences: false)
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
        // Constant time, so that timing does not tell how much of a guess was right.
        var difference: UInt8 = 0
        for (left, right) in zip(actual, expected) { difference |= left ^ right }
        return difference == 0
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
