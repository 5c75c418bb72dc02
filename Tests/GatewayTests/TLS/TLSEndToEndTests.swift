import CoreMetrics
import Foundation
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

/// Security profiles 2 and 3 through a real gateway: its `wss://` listener on port 0 next
/// to the plain one, certificates made at test time, a real database.
@Suite("TLS end to end", .serialized, .timeLimit(.minutes(2)))
struct TLSEndToEndTests {
    static let password = "AuthorizationKey-0123456789"
    static let boot: JSONValue = ["chargePointVendor": "Test", "chargePointModel": "TLS"]

    // MARK: Profile 2: TLS + Basic

    @Test func profile2ServesOCPPOverWssWithBasicAuth() async throws {
        let pki = try TestPKI()
        try await withTLSGateway(pki: pki, configure: { $0.auth = .basic }) { client, gateway in
            try await Self.addStation(client, "CP-TLS", password: Self.password)
            let tls = try pki.clientConfiguration()
            let tlsPort = try #require(gateway.tlsPort)

            let station = try await TestStation.connect(
                port: tlsPort, identity: "CP-TLS", authorization: RawHTTP.basic("CP-TLS", Self.password), tls: tls)
            let boot = try await station.callResult("BootNotification", Self.boot)
            #expect(boot["status"] == "Accepted")
            _ = try await station.callResult("Heartbeat", [:])
            await station.close()

            // Basic is checked over TLS as over plain HTTP.
            let refused = try await RawHTTP.upgrade(
                port: tlsPort, path: "/ocpp/CP-TLS", authorization: RawHTTP.basic("CP-TLS", "wrong"), tls: tls)
            #expect(refused.status == 401)
            // The plain listener still serves profile 1 and the probes.
            #expect(try await RawHTTP.get(port: gateway.port, path: "/healthz").status == 200)
        }
    }

    @Test func oldProtocolsWeakSuitesAndPlaintextAreRefused() async throws {
        let pki = try TestPKI()
        try await withTLSGateway(pki: pki) { _, gateway in
            let tlsPort = try #require(gateway.tlsPort)

            var tls11 = try pki.clientConfiguration()
            tls11.minimumTLSVersion = .tlsv1
            tls11.maximumTLSVersion = .tlsv11
            await #expect(throws: (any Error).self, "TLS 1.1") {
                try await RawHTTP.upgrade(port: tlsPort, path: "/ocpp/CP-OLD", tls: tls11)
            }

            var cbc = try pki.clientConfiguration()
            cbc.maximumTLSVersion = .tlsv12
            cbc.cipherSuiteValues = [.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA]
            await #expect(throws: (any Error).self, "a CBC suite") {
                try await RawHTTP.upgrade(port: tlsPort, path: "/ocpp/CP-OLD", tls: cbc)
            }

            // Plain HTTP on the TLS port gets no HTTP answer.
            await #expect(throws: (any Error).self, "plaintext") {
                try await RawHTTP.upgrade(port: tlsPort, path: "/ocpp/CP-OLD")
            }

            // TLS 1.2 with a suite the whitepaper names, and TLS 1.3, work.
            for suite in [
                NIOTLSCipher.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, .TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
            ] {
                var tls12 = try pki.clientConfiguration()
                tls12.maximumTLSVersion = .tlsv12
                tls12.cipherSuiteValues = [suite]
                let upgraded = try await RawHTTP.upgrade(port: tlsPort, path: "/ocpp/CP-NEW", tls: tls12)
                #expect(upgraded.status == 101, "\(suite)")
            }
            var tls13 = try pki.clientConfiguration()
            tls13.minimumTLSVersion = .tlsv13
            #expect(try await RawHTTP.upgrade(port: tlsPort, path: "/ocpp/CP-NEW", tls: tls13).status == 101)
        }
    }

    // MARK: Profile 3: mutual TLS

    @Test func profile3AcceptsAStationsOwnCertificateWithoutPassword() async throws {
        let pki = try TestPKI()
        try await withTLSGateway(pki: pki, clientCA: true, configure: { $0.auth = .basic }) { client, gateway in
            try await Self.addStation(client, "CP-1", password: Self.password)
            let tlsPort = try #require(gateway.tlsPort)
            // The identity as CN, as the whitepaper has it...
            let station = try await TestStation.connect(
                port: tlsPort, identity: "CP-1", tls: try pki.clientConfiguration(presenting: try pki.station("CP-1")))
            #expect(try await station.callResult("BootNotification", Self.boot)["status"] == "Accepted")
            _ = try await station.callResult("Heartbeat", [:])
            await station.close()
            // ...or as a subjectAlternativeName DNS name.
            let bySAN = try pki.clientConfiguration(presenting: try pki.station("SERIAL-0042", dnsNames: ["CP-1"]))
            #expect(try await RawHTTP.upgrade(port: tlsPort, path: "/ocpp/CP-1", tls: bySAN).status == 101)
        }
    }

    @Test func profile3RefusesAnotherStationsCertificateBeforeTheUpgrade() async throws {
        let pki = try TestPKI()
        let registry = PrometheusCollectorRegistry()
        try await withTLSGateway(pki: pki, clientCA: true, organization: TestPKI.organization, prometheus: registry) {
            client, gateway in
            let tlsPort = try #require(gateway.tlsPort)
            let refusals: [(what: String, certificate: TestPKI.Issued)] = [
                ("another station's certificate", try pki.station("CP-2")),
                ("identities are case-sensitive", try pki.station("cp-1")),
                ("another CPO's certificate", try pki.station("CP-1", organization: "Other CPO")),
                // TLS lets a certificate without extended key usage through (any usage,
                // RFC 5280); a station's must name client authentication.
                ("no clientAuth extended key usage", try pki.station("CP-1", usage: nil)),
            ]
            for refusal in refusals {
                let response = try await RawHTTP.upgrade(
                    port: tlsPort, path: "/ocpp/CP-1", tls: try pki.clientConfiguration(presenting: refusal.certificate)
                )
                #expect(response.status == 403, "\(refusal.what)")
            }
            // Refused before the database was asked: the open registration policy did not
            // register the identity.
            #expect(
                try await client.scalar("SELECT count(*) FROM ocpp.stations WHERE identity = 'CP-1'", as: Int.self) == 0
            )
            let metrics = Self.text(of: registry)
            #expect(metrics.contains("ocpp_gateway_certificate_mismatches_total 4"), "\(metrics)")
            #expect(metrics.contains(#"ocpp_gateway_handshakes_refused_total{reason="403"} 4"#), "\(metrics)")
        }
    }

    @Test func profile3RefusesAClientWithoutAValidCertificate() async throws {
        let pki = try TestPKI()
        let registry = PrometheusCollectorRegistry()
        try await withTLSGateway(pki: pki, clientCA: true, prometheus: registry) { _, gateway in
            let tlsPort = try #require(gateway.tlsPort)
            await #expect(throws: (any Error).self, "no certificate") {
                try await RawHTTP.upgrade(port: tlsPort, path: "/ocpp/CP-1", tls: try pki.clientConfiguration())
            }
            let stranger = try TestPKI(name: "Someone else's CA")
            let foreign = try pki.clientConfiguration(presenting: try stranger.station("CP-1"))
            await #expect(throws: (any Error).self, "a certificate from another CA") {
                try await RawHTTP.upgrade(port: tlsPort, path: "/ocpp/CP-1", tls: foreign)
            }
            try await eventually("both failures are counted") {
                Self.text(of: registry).contains("ocpp_gateway_tls_handshake_failures_total 2")
            }
        }
    }

    // MARK: A security profile per station

    @Test func aStationsProfileDecidesWhichListenerItMayUse() async throws {
        let pki = try TestPKI()
        let registry = PrometheusCollectorRegistry()
        try await withTLSGateway(pki: pki, prometheus: registry, configure: { $0.auth = .basic }) {
            client, gateway in
            let tlsPort = try #require(gateway.tlsPort)
            let tls = try pki.clientConfiguration()
            let stations: [(String, Int?)] = [("CP-ANY", nil), ("CP-P1", 1), ("CP-P2", 2), ("CP-P3", 3)]
            for (identity, profile) in stations {
                try await Self.addStation(client, identity, password: Self.password, securityProfile: profile)
            }
            func basic(_ identity: String) -> String { RawHTTP.basic(identity, Self.password) }

            // Profile 2: refused on the plain port, with or without its password (no
            // downgrade); served with Basic inside TLS.
            for authorization in [basic("CP-P2"), nil] {
                let plain = try await RawHTTP.upgrade(
                    port: gateway.port, path: "/ocpp/CP-P2", authorization: authorization)
                #expect(plain.status == 403)
            }
            let station = try await TestStation.connect(
                port: tlsPort, identity: "CP-P2", authorization: basic("CP-P2"), tls: tls)
            #expect(try await station.callResult("BootNotification", Self.boot)["status"] == "Accepted")
            await station.close()
            #expect(try await RawHTTP.upgrade(port: tlsPort, path: "/ocpp/CP-P2", tls: tls).status == 401)

            // Profile 3 on a TLS listener without client certificates: refused everywhere.
            #expect(
                try await RawHTTP.upgrade(port: tlsPort, path: "/ocpp/CP-P3", authorization: basic("CP-P3"), tls: tls)
                    .status == 403)
            #expect(
                try await RawHTTP.upgrade(port: gateway.port, path: "/ocpp/CP-P3", authorization: basic("CP-P3"))
                    .status == 403)

            // Profile 1, and a station without a profile, as before: either port with Basic.
            for identity in ["CP-P1", "CP-ANY"] {
                let plain = try await RawHTTP.upgrade(
                    port: gateway.port, path: "/ocpp/\(identity)", authorization: basic(identity))
                #expect(plain.status == 101, "\(identity)")
                let overTLS = try await RawHTTP.upgrade(
                    port: tlsPort, path: "/ocpp/\(identity)", authorization: basic(identity), tls: tls)
                #expect(overTLS.status == 101, "\(identity)")
            }
            let metrics = Self.text(of: registry)
            #expect(metrics.contains(#"ocpp_gateway_handshakes_refused_total{reason="403"} 4"#), "\(metrics)")
        }
    }

    @Test func aProfile3StationConnectsOnlyWithItsCertificate() async throws {
        let pki = try TestPKI()
        try await withTLSGateway(pki: pki, clientCA: true, configure: { $0.auth = .basic }) { client, gateway in
            let tlsPort = try #require(gateway.tlsPort)
            try await Self.addStation(client, "CP-1", password: Self.password, securityProfile: 3)
            try await Self.addStation(client, "CP-2", password: Self.password, securityProfile: 2)
            let plain = try await RawHTTP.upgrade(
                port: gateway.port, path: "/ocpp/CP-1", authorization: RawHTTP.basic("CP-1", Self.password))
            #expect(plain.status == 403, "its password on the plain port")
            await #expect(throws: (any Error).self, "no certificate") {
                try await RawHTTP.upgrade(
                    port: tlsPort, path: "/ocpp/CP-1", authorization: RawHTTP.basic("CP-1", Self.password),
                    tls: try pki.clientConfiguration())
            }
            let station = try await TestStation.connect(
                port: tlsPort, identity: "CP-1", tls: try pki.clientConfiguration(presenting: try pki.station("CP-1")))
            #expect(try await station.callResult("BootNotification", Self.boot)["status"] == "Accepted")
            await station.close()
            // A profile-2 station may use more than its profile.
            let above = try pki.clientConfiguration(presenting: try pki.station("CP-2"))
            #expect(try await RawHTTP.upgrade(port: tlsPort, path: "/ocpp/CP-2", tls: above).status == 101)
        }
    }

    @Test func withoutAPasswordAStationReachesProfile0Only() async throws {
        let pki = try TestPKI()
        // OCPP_AUTH=insecure-none: a station without a password connects without one...
        try await withTLSGateway(pki: pki) { client, gateway in
            try await Self.addStation(client, "CP-OPEN", password: nil)
            try await Self.addStation(client, "CP-P0", password: nil, securityProfile: 0)
            try await Self.addStation(client, "CP-P1", password: nil, securityProfile: 1)
            #expect(try await RawHTTP.upgrade(port: gateway.port, path: "/ocpp/CP-OPEN").status == 101)
            #expect(try await RawHTTP.upgrade(port: gateway.port, path: "/ocpp/CP-P0").status == 101)
            // ...which is profile 0: a profile-1 station is refused.
            #expect(try await RawHTTP.upgrade(port: gateway.port, path: "/ocpp/CP-P1").status == 403)
        }
    }

    @Test func withThePlainPortOffTheTLSPortServesStationsAndProbes() async throws {
        let pki = try TestPKI()
        try await withTLSGateway(pki: pki, configure: { $0.port = nil }) { _, gateway in
            let tlsPort = try #require(gateway.tlsPort)
            #expect(gateway.port == tlsPort)
            let tls = try pki.clientConfiguration()
            func probe(_ path: String) async throws -> Int {
                try await RawHTTP.exchange(
                    port: tlsPort, "GET \(path) HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", tls: tls
                ).status
            }
            #expect(try await probe("/healthz") == 200)
            // Ready once the ingest writer has reached the database, a moment after start.
            try await eventually("/readyz answers 200 over TLS") { try await probe("/readyz") == 200 }
            let station = try await TestStation.connect(port: tlsPort, identity: "CP-TLS-ONLY", tls: tls)
            _ = try await station.callResult("Heartbeat", [:])
            await station.close()
        }
    }

    // MARK: Certificate replacement

    @Test func aReplacedCertificateServesNewConnectionsWithoutARestart() async throws {
        let pki = try TestPKI()
        let files = try TLSFileSet()
        defer { files.remove() }
        let first = try pki.server()
        try files.write(server: first)
        try await TestDatabase.withFreshDatabase { client, configuration in
            _ = try await TestDatabase.migrate(client)
            let gateway = try await GatewayHarness.start(database: configuration) { settings in
                settings.tls = files.settings()
                settings.tls?.reloadInterval = .milliseconds(100)
            }
            do {
                let tlsPort = try #require(gateway.tlsPort)
                let tls = try pki.clientConfiguration()
                let station = try await TestStation.connect(port: tlsPort, identity: "CP-STAYS", tls: tls)
                #expect(try await Self.servedSerial(port: tlsPort, tls: tls) == first.serialNumber)

                // A broken file is not used: the current certificate stays.
                try Data("not a certificate".utf8).write(to: files.certificate)
                try await Task.sleep(for: .milliseconds(400))
                #expect(try await Self.servedSerial(port: tlsPort, tls: tls) == first.serialNumber)

                let second = try pki.server()
                try files.write(server: second)
                try await eventually("new connections get the new certificate", timeout: .seconds(10)) {
                    try await Self.servedSerial(port: tlsPort, tls: tls) == second.serialNumber
                }
                // The station connected before keeps its session.
                _ = try await station.callResult("Heartbeat", [:])
                await station.close()
            } catch {
                try? await gateway.stop()
                throw error
            }
            try await gateway.stop()
        }
    }

    // MARK: Helpers

    /// The serial number of the certificate the TLS listener presents to a new connection.
    private static func servedSerial(port: Int, tls: TLSConfiguration) async throws -> Certificate.SerialNumber? {
        let response = try await RawHTTP.upgrade(port: port, path: "/ocpp/CP-PROBE", tls: tls)
        return try response.peerCertificate.map { try Certificate(derEncoded: try $0.toDERBytes()).serialNumber }
    }

    /// A fresh database and a gateway with a TLS listener whose certificate `pki` issued;
    /// with `clientCA`, stations need a certificate from `pki` too (profile 3).
    private func withTLSGateway(
        pki: TestPKI, clientCA: Bool = false, organization: String? = nil,
        prometheus: PrometheusCollectorRegistry? = nil,
        configure: @escaping @Sendable (inout GatewaySettings) -> Void = { _ in },
        _ body: @Sendable (PostgresClient, GatewayHarness) async throws -> Void
    ) async throws {
        let files = try TLSFileSet()
        defer { files.remove() }
        try files.write(server: try pki.server(), clientCA: clientCA ? pki : nil)
        let tls = files.settings(clientCA: clientCA, organization: organization)
        try await TestDatabase.withFreshDatabase { client, configuration in
            _ = try await TestDatabase.migrate(client)
            let start = {
                try await GatewayHarness.start(database: configuration, prometheus: prometheus ?? .init()) {
                    $0.tls = tls
                    configure(&$0)
                }
            }
            // The gateway's metrics go to `prometheus` when the test reads them.
            let gateway =
                if let prometheus {
                    try await withMetricsFactory(PrometheusMetricsFactory(registry: prometheus)) { try await start() }
                } else {
                    try await start()
                }
            do {
                try await body(client, gateway)
            } catch {
                try? await gateway.stop()
                throw error
            }
            try await gateway.stop()
        }
    }

    private static func addStation(
        _ client: PostgresClient, _ identity: String, password: String?, securityProfile: Int? = nil
    ) async throws {
        let hash = try password.map { try PasswordHash.make(password: $0) }
        try await client.query(
            """
            INSERT INTO ocpp.stations (identity, registration_status, password_hash, security_profile)
            VALUES (\(identity), 'Accepted', \(hash), \(securityProfile)::smallint)
            """, logger: TestDatabase.logger)
    }

    private static func text(of registry: PrometheusCollectorRegistry) -> String {
        var bytes: [UInt8] = []
        registry.emit(into: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }
}
