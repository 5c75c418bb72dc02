import Shared
import Testing

/// The forms of a station's secret that the whitepaper and real stations use.
@Suite("Station passwords and AuthorizationKeys")
struct StationPasswordTests {
    @Test(arguments: [
        ("station-secret-01", true),  // 17 characters
        ("0123456789abcdef", true),  // 16, the shortest
        (String(repeating: "x", count: 40), true),  // 40, the longest
        ("fifteen-chars-x", false),  // 15
        (String(repeating: "x", count: 41), false),
        ("with a space-1234", false),
        ("tab\tinside-12345", false),
        ("non-ascii-ü-12345", false),
    ])
    func passwordsAre16To40PrintableASCIICharacters(password: String, valid: Bool) {
        #expect(StationPassword.isValidPassword(password) == valid)
    }

    @Test func anAuthorizationKeyIs16To20BytesInHex() {
        #expect(
            StationPassword.authorizationKey(String(repeating: "ab", count: 16)) == String(repeating: "AB", count: 16))
        #expect(StationPassword.authorizationKey(String(repeating: "0F", count: 20)) != nil)
        #expect(StationPassword.authorizationKey(String(repeating: "0F", count: 15)) == nil)  // 15 bytes
        #expect(StationPassword.authorizationKey(String(repeating: "0F", count: 21)) == nil)  // 21 bytes
        #expect(StationPassword.authorizationKey(String(repeating: "0", count: 33)) == nil)  // odd
        #expect(StationPassword.authorizationKey(String(repeating: "0G", count: 16)) == nil)
    }

    /// A password pushed as ChangeConfiguration AuthorizationKey is its bytes in hex;
    /// a station that then sends the hex digits (any case) is checked as the password.
    @Test func aStationUsingTheHexFormOfItsKeyIsCheckedAsThePassword() throws {
        let password = "station-secret-01"
        let key = try #require(StationPassword.authorizationKey(forPassword: password))
        #expect(key == "73746174696F6E2D7365637265742D3031")
        #expect(StationPassword.candidates(for: key).contains(password))
        #expect(StationPassword.candidates(for: key.lowercased()).contains(password))
        #expect(StationPassword.candidates(for: password) == [password])
        // A key holds at most 20 bytes.
        #expect(StationPassword.authorizationKey(forPassword: String(repeating: "x", count: 21)) == nil)
    }

    /// A key provisioned in hex is stored upper-case: any case of it is checked so.
    @Test func aKeyProvisionedInHexMatchesInAnyCase() {
        let key = String(repeating: "a1", count: 20)
        #expect(StationPassword.candidates(for: key).first == key.uppercased())
        #expect(StationPassword.candidates(for: key.uppercased()).first == key.uppercased())
    }
}
