import Foundation

/// GetCompositeSchedule, central system → charge point (SmartCharging).
///
/// Asks for the schedule a connector (0: the grid connection of the whole charge
/// point) would follow over the next `duration` seconds, combining its active
/// charging profiles and any local limits.
public struct GetCompositeScheduleRequest: OCPPRequest {
    public typealias Response = GetCompositeScheduleResponse
    public static let action = OCPPAction.getCompositeSchedule

    /// The unit the schedule should be in; absent leaves the choice to the charge point.
    public var chargingRateUnit: ChargingRateUnit?
    public var connectorId: Int
    /// Seconds.
    public var duration: Int

    public init(connectorId: Int, duration: Int, chargingRateUnit: ChargingRateUnit? = nil) {
        self.connectorId = connectorId
        self.duration = duration
        self.chargingRateUnit = chargingRateUnit
    }

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {
        connectorId = try reader.required("connectorId")
        duration = try reader.required("duration")
        chargingRateUnit = try reader.optional("chargingRateUnit")
    }

    public func encodeFields(to writer: inout JSONWriter) {
        writer.field("connectorId", connectorId)
        writer.field("duration", duration)
        writer.field("chargingRateUnit", chargingRateUnit)
    }
}

/// GetCompositeSchedule.conf: the composite schedule, when the charge point could
/// compute one.
public struct GetCompositeScheduleResponse: OCPPResponse {
    public var chargingSchedule: ChargingSchedule?
    public var connectorId: Int?
    /// The time the schedule's periods are relative to.
    public var scheduleStart: Date?
    public var status: GetCompositeScheduleStatus

    public init(
        status: GetCompositeScheduleStatus, connectorId: Int? = nil, scheduleStart: Date? = nil,
        chargingSchedule: ChargingSchedule? = nil
    ) {
        self.status = status
        self.connectorId = connectorId
        self.scheduleStart = scheduleStart
        self.chargingSchedule = chargingSchedule
    }

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {
        status = try reader.required("status")
        connectorId = try reader.optional("connectorId")
        scheduleStart = try reader.optional("scheduleStart")
        chargingSchedule = try reader.optional("chargingSchedule")
    }

    public func encodeFields(to writer: inout JSONWriter) {
        writer.field("status", status)
        writer.field("connectorId", connectorId)
        writer.field("scheduleStart", scheduleStart)
        writer.field("chargingSchedule", chargingSchedule)
    }
}

public enum GetCompositeScheduleStatus: String, OCPPEnum {
    case accepted = "Accepted"
    case rejected = "Rejected"
}
