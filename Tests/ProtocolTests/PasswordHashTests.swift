import Foundation
import Shared
import Testing

@Suite struct PasswordHashTests {
    @Test func aChosenPasswordIsStoredWithScrypt() throws {
        let stored = try PasswordHash.make(password: "correct-horse-battery")
        #expect(stored.hasPrefix("scrypt$14$8$1$"))
        #expect(PasswordHash.verify(password: "correct-horse-battery", against: stored))
        #expect(!PasswordHash.verify(password: "correct-horse-batterY", against: stored))
    }

    @Test func aGeneratedSecretIsStoredInTheFastForm() {
        let secret = StationPassword.generate()
        let stored = PasswordHash.make(generatedSecret: secret)
        let parts = stored.split(separator: "$")
        #expect(parts.count == 3 && parts[0] == "sha256")
        #expect(PasswordHash.verify(password: secret, against: stored))
        #expect(!PasswordHash.verify(password: String(secret.dropLast()), against: stored))
        // Salted: the same secret stored twice gives two different values.
        #expect(PasswordHash.make(generatedSecret: secret) != stored)
    }

    @Test func generatedPasswordsAreLongRandomAndValid() {
        let passwords = (0..<200).map { _ in StationPassword.generate() }
        #expect(Set(passwords).count == passwords.count)
        for password in passwords {
            #expect(password.count == 20)
            #expect(StationPassword.isValidPassword(password))
            #expect(password.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) })
        }
    }

    @Test(arguments: [
        "", "sha256", "sha256$$", "sha256$AAAA$AAAA", "sha256$!!$!!", "scrypt$14$8$1$AAAA",
        "scrypt$99$8$1$AAAA$AAAA", "bcrypt$10$abc", "sha256$AAAA$\(Data(count: 32).base64EncodedString())$x",
    ])
    func aMalformedStoredValueNeverMatches(stored: String) {
        #expect(!PasswordHash.verify(password: "", against: stored))
        #expect(!PasswordHash.verify(password: "anything-at-all-x", against: stored))
    }

    @Test func anEmptyDigestWithSaltDoesNotMatchAnyPassword() {
        // A digest of the wrong length (a truncated column, say) matches nothing.
        let salt = Data(count: 16).base64EncodedString()
        #expect(!PasswordHash.verify(password: "x", against: "sha256$\(salt)$\(Data(count: 8).base64EncodedString())"))
    }
}
