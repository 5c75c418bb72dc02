import Benchmark
import Foundation
import OCPP

/// Decode + validate of the frames a gateway sees most, the encoding of their
/// answers, and Foundation's bare `JSONSerialization` parse of the same bytes as the
/// reference the protocol layer is measured against.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.throughput, .wallClock, .mallocCountTotal],
        maxDuration: .seconds(3),
        maxIterations: 1_000_000
    )

    for (name, frame) in Frames.all {
        Benchmark("decode+validate \(name)") { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(try Frames.decodeAndValidate(frame))
            }
        }
        Benchmark("JSONSerialization parse \(name) (reference)") { benchmark in
            let data = Data(frame)
            for _ in benchmark.scaledIterations {
                blackHole(try JSONSerialization.jsonObject(with: data))
            }
        }
    }

    let now = Date()
    Benchmark("encode BootNotification.conf") { benchmark in
        let response = BootNotificationResponse(currentTime: now, interval: 300, status: .accepted)
        for _ in benchmark.scaledIterations {
            blackHole(OCPPFrame.encodeCallResult(messageID: "19223201", payload: response))
        }
    }
    Benchmark("encode Heartbeat.conf") { benchmark in
        let response = HeartbeatResponse(currentTime: now)
        for _ in benchmark.scaledIterations {
            blackHole(OCPPFrame.encodeCallResult(messageID: "19223202", payload: response))
        }
    }
    Benchmark("encode MeterValues(10).req (the journal's payload)") { benchmark in
        guard let request = try Frames.decodeAndValidate(Frames.meterValues10) as? MeterValuesRequest else {
            fatalError("the MeterValues frame decodes to a MeterValuesRequest")
        }
        for _ in benchmark.scaledIterations {
            blackHole(request.jsonBytes)
        }
    }
    Benchmark("encode MeterValues.conf") { benchmark in
        let response = MeterValuesResponse()
        for _ in benchmark.scaledIterations {
            blackHole(OCPPFrame.encodeCallResult(messageID: "19223203", payload: response))
        }
    }
}

enum Frames {
    static let bootNotification = Array(
        #"[2,"19223201","BootNotification",{"chargePointVendor":"VendorX","chargePointModel":"ModelY","chargePointSerialNumber":"SN-0001","firmwareVersion":"1.2.3","meterType":"DC meter"}]"#
            .utf8)

    static let heartbeat = Array(#"[2,"19223202","Heartbeat",{}]"#.utf8)

    /// MeterValues with ten sampled values, the shape of a three-phase AC charger's
    /// periodic report.
    static let meterValues10: [UInt8] = {
        let measurands = [
            ("Energy.Active.Import.Register", "Wh", nil), ("Power.Active.Import", "W", nil),
            ("Current.Import", "A", "L1"), ("Current.Import", "A", "L2"), ("Current.Import", "A", "L3"),
            ("Voltage", "V", "L1-N"), ("Voltage", "V", "L2-N"), ("Voltage", "V", "L3-N"),
            ("SoC", "Percent", nil), ("Temperature", "Celsius", nil),
        ]
        let sampled = measurands.enumerated().map { index, entry in
            let phase = entry.2.map { #","phase":"\#($0)""# } ?? ""
            return
                #"{"value":"\#(1000 + index * 17).5","context":"Sample.Periodic","format":"Raw","measurand":"\#(entry.0)","location":"Outlet","unit":"\#(entry.1)"\#(phase)}"#
        }
        let text =
            #"[2,"19223203","MeterValues",{"connectorId":1,"transactionId":4711,"meterValue":[{"timestamp":"2024-05-01T10:00:00.000Z","sampledValue":["#
            + sampled.joined(separator: ",") + "]}]}]"
        return Array(text.utf8)
    }()

    static let all: [(String, [UInt8])] = [
        ("BootNotification", bootNotification), ("Heartbeat", heartbeat), ("MeterValues(10)", meterValues10),
    ]

    /// What the gateway does with a received text frame: parse, check the frame,
    /// resolve the action, validate the payload into its typed value.
    static func decodeAndValidate(_ bytes: [UInt8]) throws -> any OCPPRequest {
        guard case .call(let call) = try OCPPFrame.decode(bytes) else { fatalError("benchmark frames are CALLs") }
        return try call.decodeRequest(receivedBy: .centralSystem)
    }
}
