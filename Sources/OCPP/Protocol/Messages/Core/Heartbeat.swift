import Foundation

/// Heartbeat, charge point → central system (Core).
///
/// Tells the central system that the charge point is still connected, sent when
/// nothing else was sent for `HeartbeatInterval` seconds. The answer carries the
/// central system's clock, which the charge point should use to set its own.
public struct HeartbeatRequest: OCPPRequest {
    public typealias Response = HeartbeatResponse
    public static let action = OCPPAction.heartbeat

    public init() {}

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {}

    public func encodeFields(to writer: inout JSONWriter) {}
}

/// Heartbeat.conf: the central system's current time.
public struct HeartbeatResponse: OCPPResponse {
    public var currentTime: Date

    public init(currentTime: Date) {
        self.currentTime = currentTime
    }

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {
        currentTime = try reader.required("currentTime")
    }

    public func encodeFields(to writer: inout JSONWriter) {
        writer.field("currentTime", currentTime)
    }
}
