import ArgumentParser
import Foundation
import Logging
import OCPP
import Shared
import SwiftASN1
import Testing
import X509

@testable import Gateway

/// The TLS settings and files: every mistake is one configuration error naming the
/// setting at fault, and a reload keeps the current certificate when the new files are bad.
@Suite("TLS configuration")
struct TLSConfigurationTests {
    static let database = ["DATABASE_URL": "postgres://postgres@127.0.0.1:5432/postgres"]

    private func resolve(_ environment: [String: String]) throws(ConfigurationError) -> TLSSettings? {
        let options = try! GatewayOptions.parse([])
        return try options.resolve(environment: Self.database.merging(environment) { $1 }).0.tls
    }

    @Test func settingsComeInPairsAndNeedTheirPrerequisites() throws {
        #expect(try resolve([:]) == nil)
        let tls = try #require(try resolve(["OCPP_TLS_CERT": "/c.pem", "OCPP_TLS_KEY": "/k.pem"]))
        #expect(tls.port == 3443)
        #expect(tls.clientCAPath == nil)
        #expect(tls.reloadInterval == .seconds(5))

        let mistakes: [(environment: [String: String], setting: String)] = [
            (["OCPP_TLS_CERT": "/c.pem"], "OCPP_TLS_KEY"),
            (["OCPP_TLS_KEY": "/k.pem"], "OCPP_TLS_CERT"),
            (["OCPP_TLS_CLIENT_CA": "/ca.pem"], "OCPP_TLS_CLIENT_CA"),
            (
                ["OCPP_TLS_CERT": "/c.pem", "OCPP_TLS_KEY": "/k.pem", "OCPP_TLS_CLIENT_ORGANIZATION": "CPO"],
                "OCPP_TLS_CLIENT_ORGANIZATION"
            ),
            (["OCPP_TLS_CERT": "/c.pem", "OCPP_TLS_KEY": "/k.pem", "OCPP_TLS_PORT": "https"], "OCPP_TLS_PORT"),
        ]
        for mistake in mistakes {
            do {
                _ = try resolve(mistake.environment)
                Issue.record("accepted \(mistake.environment)")
            } catch {
                #expect(error.setting == mistake.setting, "\(mistake.environment)")
            }
        }
    }

    @Test func thePlainPortCanBeSwitchedOffWhenTLSListens() throws {
        let options = try! GatewayOptions.parse([])
        let tls = ["OCPP_TLS_CERT": "/c.pem", "OCPP_TLS_KEY": "/k.pem"]
        func settings(_ environment: [String: String]) throws(ConfigurationError) -> GatewaySettings {
            try options.resolve(environment: Self.database.merging(environment) { $1 }).0
        }
        #expect(try settings([:]).port == 3000)
        #expect(try settings(tls.merging(["OCPP_PORT": "off"]) { $1 }).port == nil)
        #expect(try settings(tls.merging(["OCPP_PORT": "OFF"]) { $1 }).port == nil)
        #expect(try settings(["OCPP_PORT": "3100"]).port == 3100)
        #expect(
            try GatewayOptions.parse(["--port", "off"] + tls.flatMap { [Self.flag($0.key), $0.value] })
                .resolve(environment: Self.database).0.port == nil)

        // No listener at all, and a TLS port on which stations need no credentials.
        let mistakes: [(environment: [String: String], setting: String)] = [
            (["OCPP_PORT": "off"], "OCPP_PORT"),
            (tls.merging(["OCPP_AUTH": "insecure-none"]) { $1 }, "OCPP_AUTH"),
            (tls.merging(["OCPP_AUTH": "insecure-none", "OCPP_PORT": "off"]) { $1 }, "OCPP_AUTH"),
        ]
        for mistake in mistakes {
            do {
                _ = try settings(mistake.environment)
                Issue.record("accepted \(mistake.environment)")
            } catch {
                #expect(error.setting == mistake.setting, "\(mistake.environment)")
                #expect(!error.description.contains("\n"), "one line")
            }
        }
        // Client certificates authenticate the stations on the TLS port whatever OCPP_AUTH says.
        let mutual = tls.merging(["OCPP_AUTH": "insecure-none", "OCPP_TLS_CLIENT_CA": "/ca.pem"]) { $1 }
        #expect(try settings(mutual).tls?.clientCAPath == "/ca.pem")
    }

    private static func flag(_ variable: String) -> String {
        "--" + variable.dropFirst("OCPP_".count).lowercased().replacingOccurrences(of: "_", with: "-")
    }

    @Test func unusableFilesNameTheirSetting() throws {
        let pki = try TestPKI()
        let files = try TLSFileSet()
        defer { files.remove() }
        let server = try pki.server()
        try files.write(server: server, clientCA: pki)
        #expect(try TLSContextStore(settings: files.settings(clientCA: true)).serialNumber.isEmpty == false)

        func failure(_ prepare: () throws -> Void) throws -> String? {
            try files.write(server: server, clientCA: pki)
            try prepare()
            do {
                _ = try TLSContextStore(settings: files.settings(clientCA: true))
                return nil
            } catch {
                return error.setting
            }
        }
        let garbage = Data("-----BEGIN CERTIFICATE-----\nbm9wZQ==\n-----END CERTIFICATE-----\n".utf8)
        #expect(try failure { try FileManager.default.removeItem(at: files.certificate) } == "OCPP_TLS_CERT")
        #expect(try failure { try garbage.write(to: files.certificate) } == "OCPP_TLS_CERT")
        #expect(try failure { try Data().write(to: files.certificate) } == "OCPP_TLS_CERT")
        #expect(try failure { try Data("no key here".utf8).write(to: files.key) } == "OCPP_TLS_KEY")
        // Another certificate's key.
        #expect(try failure { try Data(try pki.server().keyPEM.utf8).write(to: files.key) } == "OCPP_TLS_KEY")
        #expect(try failure { try garbage.write(to: files.clientCA) } == "OCPP_TLS_CLIENT_CA")
        #expect(try failure { try FileManager.default.removeItem(at: files.clientCA) } == "OCPP_TLS_CLIENT_CA")
    }

    @Test func aReloadKeepsTheCurrentCertificateUntilTheNewFilesAreGood() throws {
        let pki = try TestPKI()
        let files = try TLSFileSet()
        defer { files.remove() }
        try files.write(server: try pki.server())
        let store = try TLSContextStore(settings: files.settings())
        let logger = Logger(label: "tls-reload-test")
        let first = store.serialNumber

        #expect(store.reload(logger: logger) == .unchanged)
        // A certificate whose key has not been written yet.
        try Data(try pki.server().certificatePEM.utf8).write(to: files.certificate)
        #expect(store.reload(logger: logger) == .rejected)
        #expect(store.serialNumber == first)
        try FileManager.default.removeItem(at: files.key)
        #expect(store.reload(logger: logger) == .rejected)
        #expect(store.serialNumber == first)

        try files.write(server: try pki.server())
        #expect(store.reload(logger: logger) == .replaced)
        #expect(store.serialNumber != first)
    }

    @Test func aCertificateOpensOnlyItsOwnIdentity() {
        let rule = CertificateIdentityRule(requiredOrganization: "CPO")
        let byCN = StationCertificate(commonNames: ["CP-1"], organizations: ["CPO"], dnsNames: [])
        let bySAN = StationCertificate(commonNames: ["SERIAL-9"], organizations: ["CPO"], dnsNames: ["CP-1", "CP-1b"])
        #expect(rule.refusal(identity: "CP-1", certificate: byCN) == nil)
        #expect(rule.refusal(identity: "CP-1", certificate: bySAN) == nil)
        #expect(rule.refusal(identity: "CP-2", certificate: byCN) != nil)
        #expect(rule.refusal(identity: "cp-1", certificate: byCN) != nil)
        #expect(rule.refusal(identity: "CP-1", certificate: nil) != nil)
        let otherCPO = StationCertificate(commonNames: ["CP-1"], organizations: ["Other"], dnsNames: [])
        #expect(rule.refusal(identity: "CP-1", certificate: otherCPO) != nil)
        #expect(
            CertificateIdentityRule(requiredOrganization: nil).refusal(identity: "CP-1", certificate: otherCPO) == nil)
        let notForClients = StationCertificate(
            commonNames: ["CP-1"], organizations: ["CPO"], dnsNames: [], allowsClientAuthentication: false)
        #expect(rule.refusal(identity: "CP-1", certificate: notForClients) != nil)
    }

    @Test func stationCertificatesAreReadFromDER() throws {
        let pki = try TestPKI()
        let issued = try pki.station("SERIAL-7", dnsNames: ["CP-7"])
        var serializer = DER.Serializer()
        try serializer.serialize(issued.certificate)
        let read = try StationCertificate(derEncoded: serializer.serializedBytes)
        #expect(read.commonNames == ["SERIAL-7"])
        #expect(read.organizations == [TestPKI.organization])
        #expect(read.dnsNames == ["CP-7"])
        #expect(read.allowsClientAuthentication)
        for usage: ExtendedKeyUsage.Usage? in [nil, .serverAuth] {
            var der = DER.Serializer()
            try der.serialize(try pki.station("CP-7", usage: usage).certificate)
            #expect(!(try StationCertificate(derEncoded: der.serializedBytes)).allowsClientAuthentication)
        }
    }
}
