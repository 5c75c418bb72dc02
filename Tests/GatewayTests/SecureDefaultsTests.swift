import ArgumentParser
import OCPP
import Shared
import Testing

@testable import Gateway

/// A gateway started with no security settings is safe on a network anyone can
/// reach, and turning authentication off is said in the setting's value.
@Suite("Secure defaults")
struct SecureDefaultsTests {
    static let database = ["DATABASE_URL": "postgres://postgres@127.0.0.1:5432/postgres"]

    private func resolve(_ environment: [String: String]) throws(ConfigurationError) -> GatewaySettings {
        let options = try! GatewayOptions.parse([])
        return try options.resolve(environment: Self.database.merging(environment) { $1 }).0
    }

    @Test func withNoSettingStationsAuthenticateAndUnknownOnesAreRefused() throws {
        let settings = try resolve([:])
        #expect(settings.auth == .basic)
        #expect(settings.registrationPolicy == .known)
        #expect(settings.authorizationPolicy == .strict)
    }

    @Test func turningAuthenticationOffSaysItIsInsecure() throws {
        #expect(try resolve(["OCPP_AUTH": "insecure-none"]).auth == .insecureNone)
        // The old spelling is refused with one line naming the setting and the new value.
        for old in ["none", "NONE"] {
            do {
                _ = try resolve(["OCPP_AUTH": old])
                Issue.record("OCPP_AUTH=\(old) was accepted")
            } catch {
                #expect(error.setting == "OCPP_AUTH")
                #expect(error.reason.contains("insecure-none"))
            }
        }
    }
}
