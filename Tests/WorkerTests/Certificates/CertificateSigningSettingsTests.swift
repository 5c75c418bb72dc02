import ArgumentParser
import Foundation
import OCPP
import Shared
import TestSupport
import Testing

@testable import Worker

/// OCPP_CSR_ORGANIZATION, OCPP_CA_CERTIFICATE, OCPP_CA_KEY and
/// OCPP_ISSUED_CERTIFICATE_DAYS: signing is on with all three files and names, and
/// anything less, or a CA that cannot sign, is one configuration error naming the
/// setting.
@Suite("Certificate signing settings")
struct CertificateSigningSettingsTests {
    static let database = ["DATABASE_URL": "postgres://u@localhost:5432/ocpp"]

    static func resolve(_ extra: [String: String]) throws -> WorkerSettings {
        try WorkerOptions.parse([]).resolve(environment: database.merging(extra) { $1 }).0
    }

    static func settingAtFault(_ extra: [String: String]) -> String? {
        do {
            _ = try resolve(extra)
            return nil
        } catch {
            return (error as? ConfigurationError)?.setting
        }
    }

    @Test func offByDefault() throws {
        #expect(try Self.resolve([:]).certificateSigning == nil)
    }

    @Test func onWithTheOrganizationAndTheCA() throws {
        let files = try TestCertificates.Authority().write()
        defer { try? FileManager.default.removeItem(atPath: (files.certificate as NSString).deletingLastPathComponent) }
        let settings = try Self.resolve([
            "OCPP_CSR_ORGANIZATION": "Test CPO", "OCPP_CA_CERTIFICATE": files.certificate, "OCPP_CA_KEY": files.key,
            "OCPP_ISSUED_CERTIFICATE_DAYS": "30",
        ])
        let signing = try #require(settings.certificateSigning)
        #expect(signing.check.organization == "Test CPO")
        #expect(signing.authority.validity == .seconds(30 * 86_400))
        #expect(signing.authority.chain.isEmpty)
    }

    @Test func eachMissingOrBrokenPieceNamesItsSetting() throws {
        let authority = try TestCertificates.Authority()
        let files = try authority.write()
        let other = try TestCertificates.Authority().write()
        let leaf = try TestCertificates.Authority(isAuthority: false).write()
        defer {
            for path in [files.certificate, other.certificate, leaf.certificate] {
                try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent)
            }
        }
        let organization = ["OCPP_CSR_ORGANIZATION": "Test CPO"]
        #expect(Self.settingAtFault(organization) == "OCPP_CA_CERTIFICATE")
        #expect(
            Self.settingAtFault(["OCPP_CA_CERTIFICATE": files.certificate, "OCPP_CA_KEY": files.key])
                == "OCPP_CSR_ORGANIZATION")
        #expect(
            Self.settingAtFault(organization.merging(["OCPP_CA_CERTIFICATE": files.certificate]) { $1 })
                == "OCPP_CA_KEY")
        // Unreadable, not PEM, not a CA, a key of another certificate.
        #expect(
            Self.settingAtFault(
                organization.merging(["OCPP_CA_CERTIFICATE": "/nonexistent/ca.crt", "OCPP_CA_KEY": files.key]) { $1 })
                == "OCPP_CA_CERTIFICATE")
        #expect(
            Self.settingAtFault(
                organization.merging(["OCPP_CA_CERTIFICATE": files.key, "OCPP_CA_KEY": files.key]) { $1 })
                == "OCPP_CA_CERTIFICATE")
        #expect(
            Self.settingAtFault(
                organization.merging(["OCPP_CA_CERTIFICATE": leaf.certificate, "OCPP_CA_KEY": leaf.key]) { $1 })
                == "OCPP_CA_CERTIFICATE")
        #expect(
            Self.settingAtFault(
                organization.merging(["OCPP_CA_CERTIFICATE": files.certificate, "OCPP_CA_KEY": other.key]) { $1 })
                == "OCPP_CA_KEY")
        #expect(
            Self.settingAtFault(
                organization.merging(["OCPP_CA_CERTIFICATE": files.certificate, "OCPP_CA_KEY": files.certificate]) {
                    $1
                })
                == "OCPP_CA_KEY")
        #expect(
            Self.settingAtFault(
                organization.merging([
                    "OCPP_CA_CERTIFICATE": files.certificate, "OCPP_CA_KEY": files.key,
                    "OCPP_ISSUED_CERTIFICATE_DAYS": "0",
                ]) { $1 }) == "OCPP_ISSUED_CERTIFICATE_DAYS")
    }

    @Test func theErrorIsOneLineNamingTheSetting() throws {
        let leaf = try TestCertificates.Authority(isAuthority: false).write()
        defer { try? FileManager.default.removeItem(atPath: (leaf.certificate as NSString).deletingLastPathComponent) }
        do {
            _ = try Self.resolve([
                "OCPP_CSR_ORGANIZATION": "Test CPO", "OCPP_CA_CERTIFICATE": leaf.certificate, "OCPP_CA_KEY": leaf.key,
            ])
            Issue.record("a certificate that is no CA was accepted")
        } catch {
            let line = "\(error)"
            #expect(line.hasPrefix("configuration error: OCPP_CA_CERTIFICATE is not a CA certificate"))
            #expect(!line.contains("\n"))
        }
    }
}
