import Foundation

/// `ChargingProfile`: a smart-charging profile, sent in SetChargingProfile.req
/// (`csChargingProfiles`) and RemoteStartTransaction.req (`chargingProfile`).
public struct ChargingProfile: JSONObjectCodable {
    public var chargingProfileId: Int
    /// Only for `TxProfile` profiles.
    public var transactionId: Int?
    public var stackLevel: Int
    public var chargingProfilePurpose: ChargingProfilePurpose
    public var chargingProfileKind: ChargingProfileKind
    public var recurrencyKind: RecurrencyKind?
    public var validFrom: Date?
    public var validTo: Date?
    public var chargingSchedule: ChargingSchedule

    public init(
        chargingProfileId: Int, transactionId: Int? = nil, stackLevel: Int,
        chargingProfilePurpose: ChargingProfilePurpose, chargingProfileKind: ChargingProfileKind,
        recurrencyKind: RecurrencyKind? = nil, validFrom: Date? = nil, validTo: Date? = nil,
        chargingSchedule: ChargingSchedule
    ) {
        self.chargingProfileId = chargingProfileId
        self.transactionId = transactionId
        self.stackLevel = stackLevel
        self.chargingProfilePurpose = chargingProfilePurpose
        self.chargingProfileKind = chargingProfileKind
        self.recurrencyKind = recurrencyKind
        self.validFrom = validFrom
        self.validTo = validTo
        self.chargingSchedule = chargingSchedule
    }

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {
        chargingProfileId = try reader.required("chargingProfileId")
        transactionId = try reader.optional("transactionId")
        stackLevel = try reader.required("stackLevel")
        chargingProfilePurpose = try reader.required("chargingProfilePurpose")
        chargingProfileKind = try reader.required("chargingProfileKind")
        recurrencyKind = try reader.optional("recurrencyKind")
        validFrom = try reader.optional("validFrom")
        validTo = try reader.optional("validTo")
        chargingSchedule = try reader.required("chargingSchedule")
    }

    public func encodeFields(to writer: inout JSONWriter) {
        writer.field("chargingProfileId", chargingProfileId)
        writer.field("transactionId", transactionId)
        writer.field("stackLevel", stackLevel)
        writer.field("chargingProfilePurpose", chargingProfilePurpose)
        writer.field("chargingProfileKind", chargingProfileKind)
        writer.field("recurrencyKind", recurrencyKind)
        writer.field("validFrom", validFrom)
        writer.field("validTo", validTo)
        writer.field("chargingSchedule", chargingSchedule)
    }
}

/// `ChargingSchedule`: the limits over time of a profile, also returned by
/// GetCompositeSchedule.conf.
public struct ChargingSchedule: JSONObjectCodable {
    /// Seconds.
    public var duration: Int?
    public var startSchedule: Date?
    public var chargingRateUnit: ChargingRateUnit
    public var chargingSchedulePeriod: [ChargingSchedulePeriod]
    /// A multiple of 0.1.
    public var minChargingRate: Double?

    public init(
        duration: Int? = nil, startSchedule: Date? = nil, chargingRateUnit: ChargingRateUnit,
        chargingSchedulePeriod: [ChargingSchedulePeriod], minChargingRate: Double? = nil
    ) {
        self.duration = duration
        self.startSchedule = startSchedule
        self.chargingRateUnit = chargingRateUnit
        self.chargingSchedulePeriod = chargingSchedulePeriod
        self.minChargingRate = minChargingRate
    }

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {
        duration = try reader.optional("duration")
        startSchedule = try reader.optional("startSchedule")
        chargingRateUnit = try reader.required("chargingRateUnit")
        chargingSchedulePeriod = try reader.required("chargingSchedulePeriod")
        minChargingRate = try reader.optional("minChargingRate", multipleOf: 0.1)
    }

    public func encodeFields(to writer: inout JSONWriter) {
        writer.field("duration", duration)
        writer.field("startSchedule", startSchedule)
        writer.field("chargingRateUnit", chargingRateUnit)
        writer.field("chargingSchedulePeriod", chargingSchedulePeriod)
        writer.field("minChargingRate", minChargingRate)
    }
}

/// `ChargingSchedulePeriod`: one step of a schedule.
public struct ChargingSchedulePeriod: JSONObjectCodable {
    /// Seconds from the start of the schedule.
    public var startPeriod: Int
    /// In the schedule's unit, a multiple of 0.1.
    public var limit: Double
    public var numberPhases: Int?

    public init(startPeriod: Int, limit: Double, numberPhases: Int? = nil) {
        self.startPeriod = startPeriod
        self.limit = limit
        self.numberPhases = numberPhases
    }

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {
        startPeriod = try reader.required("startPeriod")
        limit = try reader.required("limit", multipleOf: 0.1)
        numberPhases = try reader.optional("numberPhases")
    }

    public func encodeFields(to writer: inout JSONWriter) {
        writer.field("startPeriod", startPeriod)
        writer.field("limit", limit)
        writer.field("numberPhases", numberPhases)
    }
}

public enum ChargingProfilePurpose: String, OCPPEnum {
    case chargePointMaxProfile = "ChargePointMaxProfile"
    case txDefaultProfile = "TxDefaultProfile"
    case txProfile = "TxProfile"
}

public enum ChargingProfileKind: String, OCPPEnum {
    case absolute = "Absolute"
    case recurring = "Recurring"
    case relative = "Relative"
}

public enum RecurrencyKind: String, OCPPEnum {
    case daily = "Daily"
    case weekly = "Weekly"
}

public enum ChargingRateUnit: String, OCPPEnum {
    case a = "A"
    case w = "W"
}
