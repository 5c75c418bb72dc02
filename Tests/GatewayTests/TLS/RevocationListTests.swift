import ArgumentParser
import Crypto
import Foundation
import Logging
import NIOSSL
import OCPP
import PostgresNIO
import Prometheus
import Shared
import SwiftASN1
import TestSupport
import Testing
import X509

@testable import Gateway

/// `OCPP_TLS_CRL`: certificate revocation lists made at test time, checked at start, on
/// reload, and at a real TLS listener.
@Suite("Certificate revocation lists", .serialized, .timeLimit(.minutes(2)))
struct RevocationListTests {
    static let boot: JSONValue = ["chargePointVendor": "Test", "chargePointModel": "CRL"]

    // MARK: The list

    @Test func aListNamesTheCertificatesItRevokes() throws {
        let pki = try TestPKI()
        let revoked = try pki.station("CP-1")
        let kept = try pki.station("CP-2")
        let der = try TestCRL.make(pki: pki, revoking: [revoked.serialNumber, try pki.station("CP-3").serialNumber])
        let list = try CertificateRevocationList(derEncoded: der)
        #expect(list.issuer == pki.authority.certificate.subject)
        #expect(list.revokedSerialNumbers.count == 2)
        #expect(list.isSigned(by: pki.authority.certificate))
        #expect(list.revokes(revoked.certificate))
        #expect(!list.revokes(kept.certificate))
        // The same serial number from another CA is another certificate.
        let other = try TestPKI(name: "Other CA")
        #expect(!list.isSigned(by: other.authority.certificate))
        #expect(!list.revokes(try Self.reissue(revoked.certificate, by: other)))
        #expect(!list.isExpired(at: Date()))
        #expect(list.isExpired(at: Date().addingTimeInterval(8 * 86_400)))
    }

    @Test func anEmptyListWithoutOptionalFieldsIsRead() throws {
        let pki = try TestPKI()
        let list = try CertificateRevocationList(
            derEncoded: try TestCRL.make(pki: pki, revoking: [], nextUpdate: nil, version: false))
        #expect(list.revokedSerialNumbers.isEmpty)
        #expect(list.nextUpdate == nil)
        #expect(list.isSigned(by: pki.authority.certificate))
    }

    @Test func aFileHoldsOneDERListOrSeveralPEMLists() throws {
        let first = try TestPKI(name: "First CA")
        let second = try TestPKI(name: "Second CA")
        let a = try first.station("CP-A")
        let b = try second.station("CP-B")
        let authorities = [first.authority.certificate, second.authority.certificate]

        let der = try TestCRL.make(pki: first, revoking: [a.serialNumber])
        let fromDER = try CertificateRevocations(fileBytes: der, authorities: authorities)
        #expect(fromDER.revokes(a.certificate))

        let pem = TestCRL.pem(der) + TestCRL.pem(try TestCRL.make(pki: second, revoking: [b.serialNumber]))
        let fromPEM = try CertificateRevocations(fileBytes: Array(pem.utf8), authorities: authorities)
        #expect(fromPEM.lists.count == 2)
        #expect(fromPEM.revokes(a.certificate) && fromPEM.revokes(b.certificate))
        #expect(!fromPEM.revokes(try first.station("CP-A").certificate))
    }

    @Test(arguments: [
        (
            TestCertificates.KeyKind.rsa(bits: 2048), Certificate.SignatureAlgorithm.sha256WithRSAEncryption,
            "1.2.840.113549.1.1.11"
        ),
        (.rsa(bits: 2048), .sha384WithRSAEncryption, "1.2.840.113549.1.1.12"),
        (.rsa(bits: 2048), .sha512WithRSAEncryption, "1.2.840.113549.1.1.13"),
        (.p384, .ecdsaWithSHA384, "1.2.840.10045.4.3.3"),
        (.p521, .ecdsaWithSHA512, "1.2.840.10045.4.3.4"),
        (.ed25519, .ed25519, "1.3.101.112"),
    ])
    func listsOfRSAAndOtherCAsVerify(
        kind: TestCertificates.KeyKind, algorithm: Certificate.SignatureAlgorithm, oid: String
    ) throws {
        let authority = try TestCertificates.Authority(name: "\(kind) CA", key: kind)
        let der = try TestCRL.make(
            issuer: authority.certificate.subject, key: authority.key, algorithm: algorithm,
            oid: try ASN1ObjectIdentifier(dotRepresentation: oid), revoking: [Certificate.SerialNumber()])
        let lists = try CertificateRevocations(fileBytes: der, authorities: [authority.certificate])
        #expect(lists.lists.first?.revokedSerialNumbers.count == 1)
        // Another CA of the same kind and name did not sign it.
        let other = try TestCertificates.Authority(name: "\(kind) CA", key: kind)
        #expect(throws: CertificateRevocationList.Invalid.self) {
            try CertificateRevocations(fileBytes: der, authorities: [other.certificate])
        }
    }

    @Test func aListNoConfiguredCASignedIsRefused() throws {
        let pki = try TestPKI()
        let forged = try TestCRL.make(pki: pki, revoking: [], signer: P256.Signing.PrivateKey())
        #expect(throws: CertificateRevocationList.Invalid.self) {
            try CertificateRevocations(fileBytes: forged, authorities: [pki.authority.certificate])
        }
        for garbage in [
            Array("not a list".utf8), [0x30, 0x03, 0x02, 0x01, 0x01],
            Array("-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n".utf8),
        ] {
            #expect(throws: CertificateRevocationList.Invalid.self) {
                try CertificateRevocations(fileBytes: garbage, authorities: [pki.authority.certificate])
            }
        }
    }

    // MARK: Configuration

    @Test func theSettingNeedsTheClientCA() throws {
        func resolve(_ environment: [String: String]) throws(ConfigurationError) -> TLSSettings? {
            try (try! GatewayOptions.parse([])).resolve(
                environment: environment.merging(["DATABASE_URL": "postgres://u@localhost/db"]) { a, _ in a }
            ).0.tls
        }
        let files = ["OCPP_TLS_CERT": "/c.pem", "OCPP_TLS_KEY": "/k.pem"]
        #expect(
            try resolve(files.merging(["OCPP_TLS_CLIENT_CA": "/ca.pem", "OCPP_TLS_CRL": "/crl.pem"]) { a, _ in a })?
                .revocationListPath == "/crl.pem")
        for environment in [files.merging(["OCPP_TLS_CRL": "/crl.pem"]) { a, _ in a }, ["OCPP_TLS_CRL": "/crl.pem"]] {
            do {
                _ = try resolve(environment)
                Issue.record("accepted \(environment)")
            } catch {
                #expect(error.setting == "OCPP_TLS_CRL")
            }
        }
    }

    @Test func anUnusableListStopsTheStartAndIsKeptOnReload() throws {
        let pki = try TestPKI()
        let files = try TLSFileSet()
        defer { files.remove() }
        try files.write(server: try pki.server(), clientCA: pki)
        let crl = files.directory.appendingPathComponent("stations.crl")
        var settings = files.settings(clientCA: true)
        settings.revocationListPath = crl.path

        func startFailure() -> ConfigurationError? {
            do {
                _ = try TLSContextStore(settings: settings)
                return nil
            } catch {
                return error
            }
        }
        #expect(startFailure()?.setting == "OCPP_TLS_CRL")  // missing
        try Data(try TestCRL.make(pki: pki, revoking: [], signer: P256.Signing.PrivateKey())).write(to: crl)
        let forged = startFailure()
        #expect(forged?.setting == "OCPP_TLS_CRL")
        #expect(forged?.reason.contains("not signed") == true, "\(String(describing: forged))")

        let station = try pki.station("CP-1")
        try Data(try TestCRL.make(pki: pki, revoking: [])).write(to: crl)
        let store = try TLSContextStore(settings: settings)
        #expect(store.revocations?.revokes(station.certificate) == false)
        let logger = Logger(label: "test")
        // A bad list on reload is logged; the previous one stays.
        try Data("garbage".utf8).write(to: crl)
        #expect(store.reload(logger: logger) == .rejected)
        #expect(store.revocations?.lists.count == 1)
        // A new good list replaces it.
        try Data(try TestCRL.make(pki: pki, revoking: [station.serialNumber])).write(to: crl)
        #expect(store.reload(logger: logger) == .replaced)
        #expect(store.revocations?.revokes(station.certificate) == true)
        // An expired list is still applied.
        try Data(
            try TestCRL.make(pki: pki, revoking: [station.serialNumber], nextUpdate: Date().addingTimeInterval(-60))
        )
        .write(to: crl)
        #expect(store.reload(logger: logger) == .replaced)
        #expect(store.revocations?.revokes(station.certificate) == true)
        #expect(store.revocations?.expired(at: Date()).count == 1)
    }

    // MARK: At the TLS port

    @Test func aRevokedStationCertificateIsRefusedAndAReloadTakesEffect() async throws {
        let pki = try TestPKI()
        let revoked = try pki.station("CP-1")
        let good = try pki.station("CP-2")
        let later = try pki.station("CP-3")
        let files = try TLSFileSet()
        defer { files.remove() }
        try files.write(server: try pki.server(), clientCA: pki)
        let crl = files.directory.appendingPathComponent("stations.crl")
        try TestCRL.pem(try TestCRL.make(pki: pki, revoking: [revoked.serialNumber])).write(
            to: crl, atomically: true, encoding: .utf8)
        var settings = files.settings(clientCA: true)
        settings.revocationListPath = crl.path
        settings.reloadInterval = .milliseconds(100)
        let tls = settings
        try await GatewayHarness.withGateway(configure: { $0.tls = tls }) { client, _, gateway in
            let tlsPort = try #require(gateway.tlsPort)
            let refused = try await RawHTTP.upgrade(
                port: tlsPort, path: "/ocpp/CP-1", tls: try pki.clientConfiguration(presenting: revoked))
            #expect(refused.status == 403)
            // Refused before the database was asked: the open registration did not register it.
            #expect(
                try await client.scalar("SELECT count(*) FROM ocpp.stations WHERE identity = 'CP-1'", as: Int.self) == 0
            )
            let station = try await TestStation.connect(
                port: tlsPort, identity: "CP-2", tls: try pki.clientConfiguration(presenting: good))
            #expect(try await station.callResult("BootNotification", Self.boot)["status"] == "Accepted")
            await station.close()
            let presentingLater = try pki.clientConfiguration(presenting: later)
            #expect(try await RawHTTP.upgrade(port: tlsPort, path: "/ocpp/CP-3", tls: presentingLater).status == 101)

            // A new list, as a CA publishes it: CP-3 is revoked from now on.
            try Data(try TestCRL.make(pki: pki, revoking: [revoked.serialNumber, later.serialNumber])).write(
                to: crl)
            try await eventually("the new list applies", timeout: .seconds(10)) {
                try await RawHTTP.upgrade(port: tlsPort, path: "/ocpp/CP-3", tls: presentingLater).status == 403
            }
        }
    }

    @Test func aGatewayWithAForgedListDoesNotStart() async throws {
        let pki = try TestPKI()
        let files = try TLSFileSet()
        defer { files.remove() }
        try files.write(server: try pki.server(), clientCA: pki)
        let crl = files.directory.appendingPathComponent("stations.crl")
        try Data(try TestCRL.make(pki: TestPKI(name: "OCPP Test CA"), revoking: [])).write(to: crl)
        var tls = files.settings(clientCA: true)
        tls.revocationListPath = crl.path
        var settings = GatewaySettings(
            gatewayID: "crl-test",
            database: .init(host: "127.0.0.1", port: 1, username: "unused", password: nil, database: nil, tls: .disable)
        )
        settings.tls = tls
        let application = GatewayApplication(settings: settings, logger: Logger(label: "test"), prometheus: .init())
        // Same issuer name, another key: not the configured CA's list.
        #expect(throws: ConfigurationError.self) { _ = try application.makeServiceGroup() }
    }

    /// `certificate`'s subject, key and serial number, issued by `authority` instead.
    private static func reissue(_ certificate: Certificate, by authority: TestPKI) throws -> Certificate {
        try Certificate(
            version: .v3, serialNumber: certificate.serialNumber, publicKey: certificate.publicKey,
            notValidBefore: certificate.notValidBefore, notValidAfter: certificate.notValidAfter,
            issuer: authority.authority.certificate.subject, subject: certificate.subject,
            signatureAlgorithm: .ecdsaWithSHA256, extensions: certificate.extensions,
            issuerPrivateKey: .init(authority.authority.key))
    }
}

/// Builds RFC 5280 CertificateLists.
enum TestCRL {
    /// Signed with ECDSA P-256 and SHA-256 by `pki`'s CA (or by `signer`, a forger).
    static func make(
        pki: TestPKI, revoking serials: [Certificate.SerialNumber],
        nextUpdate: Date? = Date().addingTimeInterval(7 * 86_400), version: Bool = true,
        signer: P256.Signing.PrivateKey? = nil
    ) throws -> [UInt8] {
        try make(
            issuer: pki.authority.certificate.subject, key: .init(signer ?? pki.authority.key),
            algorithm: .ecdsaWithSHA256, oid: "1.2.840.10045.4.3.2", revoking: serials, nextUpdate: nextUpdate,
            version: version)
    }

    static func make(
        issuer: DistinguishedName, key: Certificate.PrivateKey, algorithm: Certificate.SignatureAlgorithm,
        oid: ASN1ObjectIdentifier, revoking serials: [Certificate.SerialNumber],
        nextUpdate: Date? = Date().addingTimeInterval(7 * 86_400), version: Bool = true
    ) throws -> [UInt8] {
        // RSA algorithm identifiers carry an explicit NULL parameter (RFC 4055).
        let isRSA = oid.description.hasPrefix("1.2.840.113549.")
        func serializeAlgorithm(_ serializer: inout DER.Serializer) throws {
            try serializer.appendConstructedNode(identifier: .sequence) { identifier in
                try identifier.serialize(oid)
                if isRSA { try identifier.serialize(ASN1Null()) }
            }
        }
        var tbs = DER.Serializer()
        try tbs.appendConstructedNode(identifier: .sequence) { list in
            if version { try list.serialize(1) }
            try serializeAlgorithm(&list)
            try list.serialize(issuer)
            try list.serialize(try utcTime(Date().addingTimeInterval(-3600)))
            if let nextUpdate { try list.serialize(try utcTime(nextUpdate)) }
            if !serials.isEmpty {
                try list.appendConstructedNode(identifier: .sequence) { entries in
                    for serial in serials {
                        try entries.appendConstructedNode(identifier: .sequence) { entry in
                            try entry.serialize(serial.bytes)
                            try entry.serialize(try utcTime(Date().addingTimeInterval(-60)))
                        }
                    }
                }
            }
        }
        let signedBytes = tbs.serializedBytes
        let signature = try key.sign(bytes: signedBytes, signatureAlgorithm: algorithm).rawRepresentation
        var list = DER.Serializer()
        try list.appendConstructedNode(identifier: .sequence) { outer in
            outer.serializeRawBytes(signedBytes)
            try serializeAlgorithm(&outer)
            try outer.serialize(ASN1BitString(bytes: ArraySlice(signature)))
        }
        return list.serializedBytes
    }

    static func pem(_ der: [UInt8]) -> String {
        PEMDocument(type: "X509 CRL", derBytes: der).pemString + "\n"
    }

    private static func utcTime(_ date: Date) throws -> UTCTime {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return try UTCTime(
            year: c.year!, month: c.month!, day: c.day!, hours: c.hour!, minutes: c.minute!, seconds: c.second!)
    }
}
