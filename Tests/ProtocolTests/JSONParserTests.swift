import Testing

@testable import OCPP

@Suite("JSON parser")
struct JSONParserTests {
    @Test(arguments: [
        ("{}", JSONValue.object(JSONObject())),
        ("[]", .array([])),
        ("  [1, -2, 0]  ", .array([.integer(1), .integer(-2), .integer(0)])),
        ("1.5", .double(1.5)),
        ("1e3", .double(1000)),
        ("-0.25E-2", .double(-0.0025)),
        ("true", .bool(true)),
        ("false", .bool(false)),
        ("null", .null),
        (#""a\"b\\c\/d\n\t\r\b\f""#, .string("a\"b\\c/d\n\t\r\u{08}\u{0C}")),
        (#""\u00e9\u20AC\ud83d\ude00""#, .string("é€😀")),
        (#""héllo""#, .string("héllo")),
        (#"{"a":{"b":[1,{"c":null}]}}"#, JSONValue.object(JSONObject([(key: "a", value: ["b": [1, ["c": nil]]])]))),
        ("9223372036854775807", .integer(Int64.max)),
        ("9223372036854775808", .double(9_223_372_036_854_775_808)),
    ])
    func parsesValidDocuments(text: String, expected: JSONValue) throws {
        #expect(try JSONParser.parse(text) == expected)
    }

    @Test(arguments: [
        "", " ", "[", "]", "{", "[1,]", "[1 2]", "{\"a\"}", "{\"a\":1,}", "{a:1}", "01", "1.", ".5", "-",
        "1e", "+1", "tru", "nul", "\"abc", "\"\\x\"", "\"\\u12\"", "\"\\ud800\"", "\"\\udc00\"",
        "\"a\u{01}b\"", "[1] x", "NaN", "Infinity", "1e999", "{\"a\":1,\"a\":2}", "'a'",
    ])
    func refusesInvalidDocuments(text: String) {
        #expect(throws: JSONParseError.self) { try JSONParser.parse(text) }
    }

    @Test func refusesInvalidUTF8() {
        let bytes: [UInt8] = [0x22, 0xC3, 0x28, 0x22]
        #expect(throws: JSONParseError.self) { try JSONParser.parse(bytes) }
    }

    @Test func boundsNesting() throws {
        let deep = String(repeating: "[", count: 33) + String(repeating: "]", count: 33)
        #expect(throws: JSONParseError.self) { try JSONParser.parse(deep) }
        let allowed = String(repeating: "[", count: 32) + String(repeating: "]", count: 32)
        _ = try JSONParser.parse(allowed)
    }

    /// Strings are written as runs between escapes: escapes at either end, next to
    /// each other and alone, and text that needs none.
    @Test(arguments: [
        ("", #""""#),
        ("plain text", #""plain text""#),
        ("\"", #""\"""#),
        ("a\"b\\c", #""a\"b\\c""#),
        ("\\end\\", #""\\end\\""#),
        ("\n\r\t", #""\n\r\t""#),
        ("\u{01}x\u{1F}", #""\u0001x\u001f""#),
        ("/ é 😀 \u{7F}", "\"/ é 😀 \u{7F}\""),
    ])
    func writerEscapesExactlyWhatJSONRequires(text: String, expected: String) {
        var writer = JSONWriter()
        writer.string(text)
        #expect(writer.string == expected)
    }

    @Test func writerOutputParsesBackToTheSameValue() throws {
        let value: JSONValue = [
            "text": "quote \" backslash \\ newline \n control \u{01} unicode é😀",
            "integer": -42, "double": 0.1, "flag": true, "nothing": nil,
            "list": [1, "two", [3]],
        ]
        let text = value.jsonText
        #expect(try JSONParser.parse(text) == value)
        #expect(text.contains("\\u0001"))
        var writer = JSONWriter()
        writer.double(3.0)
        #expect(writer.string == "3", "whole numbers are written without a fraction")
        #expect(!text.contains(" \""), "no insignificant whitespace")
    }
}
