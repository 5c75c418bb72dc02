import Foundation
import OCPP
import Shared
import Testing

@testable import Worker

/// The web console's pure parts: sessions and CSRF, CSV, SVG charts, the command
/// forms and how the API's validation errors land next to their fields.
@Suite("Console: sessions and CSRF")
struct ConsoleSessionTests {
    final class Clock: @unchecked Sendable {
        var now = Date(timeIntervalSince1970: 1_800_000_000)
    }

    @Test func aSessionIsRecognisedByAnyWorkerWithTheSameToken() async {
        let sessions = ConsoleSessions(token: "admin-token-0123456789")
        let session = await sessions.create()
        #expect(await sessions.session(id: session.id) == session)
        // Another process (a restarted worker) with the same token.
        let restarted = ConsoleSessions(token: "admin-token-0123456789")
        #expect(await restarted.session(id: session.id) == session)
        // Another token: every session is void.
        let rotated = ConsoleSessions(token: "another-token-0123456789")
        #expect(await rotated.session(id: session.id) == nil)
    }

    @Test func forgedExpiredAndSignedOutSessionsAreRefused() async {
        let clock = Clock()
        let sessions = ConsoleSessions(token: "admin-token-0123456789", lifetime: 60, now: { clock.now })
        let session = await sessions.create()
        #expect(!session.id.contains("admin-token"))
        var parts = session.id.split(separator: ".").map(String.init)
        // A later expiry with the old MAC.
        parts[1] = String(Int(parts[1])! + 3600)
        #expect(await sessions.session(id: parts.joined(separator: ".")) == nil)
        #expect(await sessions.session(id: session.id + "x") == nil)
        #expect(await sessions.session(id: "v1.1.2.3") == nil)
        #expect(await sessions.session(id: "") == nil)
        clock.now += 61
        #expect(await sessions.session(id: session.id) == nil)
        clock.now -= 61
        let other = await sessions.create()
        await sessions.remove(id: other.id)
        #expect(await sessions.session(id: other.id) == nil)
        #expect(await sessions.session(id: session.id) != nil)
    }

    @Test func eachSessionHasItsOwnCSRFToken() async {
        let sessions = ConsoleSessions(token: "admin-token-0123456789")
        let first = await sessions.create()
        let second = await sessions.create()
        #expect(first.csrfToken != second.csrfToken)
        #expect(first.csrfToken.count == 43)
        #expect(ConsoleSecurity.isSameOriginForm(csrfField: first.csrfToken, session: first, origin: nil, host: "h:1"))
        #expect(
            !ConsoleSecurity.isSameOriginForm(csrfField: second.csrfToken, session: first, origin: nil, host: "h:1"))
        #expect(!ConsoleSecurity.isSameOriginForm(csrfField: nil, session: first, origin: nil, host: "h:1"))
        #expect(
            !ConsoleSecurity.isSameOriginForm(
                csrfField: first.csrfToken, session: first, origin: "http://evil.example", host: "h:1"))
    }

    @Test func originMustNameThisHost() {
        #expect(ConsoleSecurity.isSameOrigin(origin: nil, host: "127.0.0.1:8180"))
        #expect(ConsoleSecurity.isSameOrigin(origin: "http://127.0.0.1:8180", host: "127.0.0.1:8180"))
        #expect(ConsoleSecurity.isSameOrigin(origin: "https://Console.Example", host: "console.example"))
        #expect(!ConsoleSecurity.isSameOrigin(origin: "http://127.0.0.1:8181", host: "127.0.0.1:8180"))
        #expect(!ConsoleSecurity.isSameOrigin(origin: "http://evil.example", host: "console.example"))
        #expect(!ConsoleSecurity.isSameOrigin(origin: "null", host: "console.example"))
        #expect(!ConsoleSecurity.isSameOrigin(origin: "http://console.example", host: nil))
    }

    @Test func theCookieIsHttpOnlyAndStrict() async {
        let session = await ConsoleSessions(token: "admin-token-0123456789").create()
        let cookie = ConsoleSecurity.sessionCookie(session, lifetime: 3600, secure: false)
        #expect(cookie.hasPrefix("ocpp_console=\(session.id);"))
        #expect(cookie.contains("; HttpOnly") && cookie.contains("; SameSite=Strict") && !cookie.contains("Secure"))
        #expect(ConsoleSecurity.sessionCookie(session, lifetime: 3600, secure: true).hasSuffix("; Secure"))
        #expect(ConsoleSecurity.clearedCookie(secure: false).contains("Max-Age=0"))
        #expect(ConsoleSecurity.sessionID(cookieHeader: "a=b; ocpp_console=\(session.id); c=d") == session.id)
        #expect(ConsoleSecurity.sessionID(cookieHeader: "ocpp_console=") == nil)
        #expect(ConsoleSecurity.sessionID(cookieHeader: nil) == nil)
    }

    @Test func afterSignInOnlyLocalPathsAreFollowed() {
        #expect(Console.localTarget("/stations/CP-1") == "/stations/CP-1")
        #expect(Console.localTarget("//evil.example/x") == "/stations")
        #expect(Console.localTarget("/\\evil.example") == "/stations")
        #expect(Console.localTarget("https://evil.example") == "/stations")
        #expect(Console.localTarget(nil) == "/stations")
    }
}

@Suite("Console: CSV, forms and charts")
struct ConsoleFormatTests {
    @Test func csvQuotesWhatNeedsIt() {
        #expect(ConsoleCSV.field("plain") == "plain")
        #expect(ConsoleCSV.field(nil) == "")
        #expect(ConsoleCSV.field("a,b") == "\"a,b\"")
        #expect(ConsoleCSV.field("say \"hi\"") == "\"say \"\"hi\"\"\"")
        #expect(ConsoleCSV.field("two\nlines") == "\"two\nlines\"")
        #expect(ConsoleCSV.field("crlf\r\nend") == "\"crlf\r\nend\"")
        #expect(ConsoleCSV.field(#"{"a":1,"b":"x"}"#) == #""{""a"":1,""b"":""x""}""#)
        // A formula is defused; a negative number is left alone.
        #expect(ConsoleCSV.field("=HYPERLINK(1)") == "'=HYPERLINK(1)")
        #expect(ConsoleCSV.field("@SUM(A1)") == "'@SUM(A1)")
        #expect(ConsoleCSV.field("-12.5") == "-12.5")
        #expect(ConsoleCSV.row(["a", nil, "b,c"]) == "a,,\"b,c\"\r\n")
    }

    @Test func formFieldsAreDecoded() {
        let values = ConsoleForm.parse("a=1&b=two+words&c=%C3%A9%26%3D&d=&e")
        #expect(values == ["a": "1", "b": "two words", "c": "é&=", "d": "", "e": ""])
        let form = ConsoleForm(values: values)
        #expect(form["d"] == nil)
        #expect(form["b"] == "two words")
        #expect(ConsoleForm.time("2026-12-06T20:30") == RFC3339.parse("2026-12-06T20:30:00Z"))
        #expect(ConsoleForm.time("2026-12-06T20:30:15Z") == RFC3339.parse("2026-12-06T20:30:15Z"))
        #expect(ConsoleForm.time("yesterday") == nil)
    }

    @Test func aChartDrawsEveryPointInsideItsFrame() throws {
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        let points = (0..<5).map {
            ConsoleChart.Point(time: start.addingTimeInterval(Double($0) * 60), value: Double($0) * 100)
        }
        let svg = ConsoleChart.svg(title: "Energy", unit: "Wh", points: points.reversed())
        #expect(svg.hasPrefix("<svg") && svg.hasSuffix("</svg>"))
        let path = try #require(svg.firstRange(of: #"d=""#).map { svg[$0.upperBound...].prefix { $0 != "\"" } })
        let coordinates = path.split(separator: " ").map {
            $0.dropFirst().split(separator: ",").compactMap { Double($0) }
        }
        #expect(coordinates.count == 5)
        #expect(path.hasPrefix("M64.0,188.0"))  // the first sample, at the origin
        #expect(path.hasSuffix("L624.0,24.0"))  // the last, top right
        for point in coordinates {
            #expect((ConsoleChart.left...ConsoleChart.width - ConsoleChart.right).contains(point[0]))
            #expect((ConsoleChart.top...ConsoleChart.height - ConsoleChart.bottom).contains(point[1]))
        }
        #expect(svg.contains(">20:00:00 UTC<") || svg.contains(" UTC<"))
    }

    @Test func aChartWithoutDataOrWithFlatDataStaysValid() throws {
        let empty = ConsoleChart.svg(title: "Power <W>", unit: "W", points: [])
        #expect(empty.contains("no data") && empty.contains("Power &lt;W&gt;") && !empty.contains("<W>"))
        let flat = ConsoleChart.svg(
            title: "Power", unit: "W", points: [.init(time: Date(timeIntervalSince1970: 0), value: 7)])
        let path = try #require(flat.firstRange(of: #"d=""#).map { flat[$0.upperBound...].prefix { $0 != "\"" } })
        let numbers = path.split(whereSeparator: { " ,ML".contains($0) }).map { Double($0) }
        #expect(!numbers.isEmpty && numbers.allSatisfy { $0?.isFinite == true })
    }

    @Test func powerIsDerivedFromEnergy() {
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        let energy: [ConsoleChart.Point] = [
            .init(time: start, value: 1000), .init(time: start.addingTimeInterval(1800), value: 6500),
            .init(time: start.addingTimeInterval(1800), value: 6500),
        ]
        #expect(ConsoleChart.power(fromEnergy: energy) == [.init(time: start.addingTimeInterval(1800), value: 11_000)])
    }

    @Test func everyCentralSystemCommandHasAFormAndNothingElseDoes() {
        let commands = Set(
            OCPPAction.allCases.filter { $0.directions.contains(.centralSystemToChargePoint) }.map(\.rawValue))
        #expect(Set(ConsoleCommandForms.commands.map(\.action)) == commands)
    }

    @Test func fieldsBecomeThePayload() {
        let form = ConsoleForm(values: [
            "field.connectorId": "2", "field.type": "Inoperative", "field.unused": "x",
        ])
        let (payload, errors) = ConsoleCommandForms.payload(action: "ChangeAvailability", form: form)
        #expect(errors.isEmpty)
        #expect(payload == JSONObject([("connectorId", .integer(2)), ("type", .string("Inoperative"))]))
        let (keys, _) = ConsoleCommandForms.payload(
            action: "GetConfiguration", form: ConsoleForm(values: ["field.key": "A, B,,"]))
        #expect(keys["key"] == .array([.string("A"), .string("B")]))
        let (reserve, _) = ConsoleCommandForms.payload(
            action: "ReserveNow", form: ConsoleForm(values: ["field.expiryDate": "2030-01-02T03:04"]))
        #expect(reserve["expiryDate"] == .string("2030-01-02T03:04:00.000Z"))
        let (_, broken) = ConsoleCommandForms.payload(
            action: "SetChargingProfile", form: ConsoleForm(values: ["field.csChargingProfiles": "{nope"]))
        #expect(broken["csChargingProfiles"]?.hasPrefix("not JSON") == true)
    }

    @Test func theAPIsValidationErrorsLandOnTheirFields() async throws {
        func fieldError(_ action: String, _ values: [String: String]) async -> (String?, String)? {
            let (payload, _) = ConsoleCommandForms.payload(action: action, form: ConsoleForm(values: values))
            do {
                _ = try await ConsoleCommandForms.validate(action: action, payload: payload)
                return nil
            } catch let error as AdminError {
                return (ConsoleCommandForms.formField(ofAPIField: error.field), error.message)
            } catch {
                return ("unexpected", "\(error)")
            }
        }
        let missing = await fieldError("ChangeAvailability", ["field.connectorId": "1"])
        #expect(missing?.0 == "type")
        #expect(missing?.1.contains("required field is missing") == true)
        let wrongType = await fieldError("ChangeAvailability", ["field.connectorId": "one", "field.type": "Operative"])
        #expect(wrongType?.0 == "connectorId")
        let badChoice = await fieldError("Reset", ["field.type": "Gentle"])
        #expect(badChoice?.0 == "type")
        let nested = await fieldError(
            "SetChargingProfile", ["field.connectorId": "1", "field.csChargingProfiles": #"{"chargingProfileId": 1}"#])
        #expect(nested?.0 == "csChargingProfiles")
        #expect(await fieldError("ChangeAvailability", ["field.connectorId": "1", "field.type": "Operative"]) == nil)
        #expect(await fieldError("ClearCache", [:]) == nil)
        #expect(
            ConsoleCommandForms.formField(ofAPIField: "payload.csChargingProfiles.chargingSchedule[0]")
                == "csChargingProfiles")
        #expect(ConsoleCommandForms.formField(ofAPIField: "payload.key[2]") == "key")
        #expect(ConsoleCommandForms.formField(ofAPIField: "payload") == nil)
        #expect(ConsoleCommandForms.formField(ofAPIField: "action") == nil)
        #expect(ConsoleCommandForms.formField(ofAPIField: nil) == nil)
    }
}

@Suite("Console: live hub")
struct ConsoleLiveHubTests {
    @Test func eachPageGetsTheStationsItShows() async {
        let hub = ConsoleLiveHub()
        let (first, firstStream) = await hub.subscribe(stations: [1, 2])
        let (_, secondStream) = await hub.subscribe(stations: [3])
        #expect(await hub.watched(among: nil) == [1, 2, 3])
        #expect(await hub.watched(among: [2, 3, 4]) == [2, 3])
        await hub.publish([1: "one", 3: "three", 4: "four"])
        await hub.ping(first)
        await hub.unsubscribe(first)
        await hub.close()
        var firstEvents: [String] = []
        for await event in firstStream { firstEvents.append(event) }
        var secondEvents: [String] = []
        for await event in secondStream { secondEvents.append(event) }
        #expect(firstEvents == ["one", ": keep-alive\n\n"])
        #expect(secondEvents == ["three"])
        // After close, a new page's stream ends at once.
        let (_, late) = await hub.subscribe(stations: [1])
        for await _ in late { Issue.record("a closed hub sent an event") }
        #expect(await hub.subscriberCount == 0)
    }

    @Test func aFleetPageGetsTheCountsAndTheChangesOfStationsItDoesNotShow() async {
        let hub = ConsoleLiveHub()
        let (_, fleetStream) = await hub.subscribe(stations: [1], fleet: true)
        let (_, stationStream) = await hub.subscribe(stations: [2])
        #expect(await hub.hasFleet)
        await hub.publishChanges([1: "change one", 2: "change two", 3: "change three"])
        await hub.publishChanges(nil)
        await hub.publishCounts("counts")
        await hub.close()
        var fleetEvents: [String] = []
        for await event in fleetStream { fleetEvents.append(event) }
        var stationEvents: [String] = []
        for await event in stationStream { stationEvents.append(event) }
        // Station 1 is on the fleet page: its row follows `station` events, not `change`.
        #expect(fleetEvents.count == 4)
        #expect(Set(fleetEvents.prefix(2)) == ["change two", "change three"])
        #expect(Array(fleetEvents.suffix(2)) == [ConsoleLive.allChangedEvent, "counts"])
        #expect(stationEvents.isEmpty)
        #expect(!(await hub.hasFleet))
        #expect(ConsoleLive.changeEvent("event: station\ndata: {}\n\n") == "event: change\ndata: {}\n\n")
    }

    @Test func aNoticeNamesStationsOrAll() {
        #expect(ConsoleLive.stationIDs("1,22,333") == [1, 22, 333])
        #expect(ConsoleLive.stationIDs("*") == nil)
        #expect(ConsoleLive.stationIDs("") == [])
    }
}
