import Foundation

/// `MeterValue`: sampled values taken at one point in time, as carried by
/// MeterValues.req and StopTransaction.req's `transactionData`.
public struct MeterValue: JSONObjectCodable {
    public var timestamp: Date
    /// MeterValues.req requires at least one; StopTransaction.req's schema sets no
    /// minimum, so the check lives in ``MeterValuesRequest``.
    public var sampledValue: [SampledValue]

    public init(timestamp: Date, sampledValue: [SampledValue]) {
        self.timestamp = timestamp
        self.sampledValue = sampledValue
    }

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {
        timestamp = try reader.required("timestamp")
        sampledValue = try reader.required("sampledValue")
    }

    public func encodeFields(to writer: inout JSONWriter) {
        writer.field("timestamp", timestamp)
        writer.field("sampledValue", sampledValue)
    }
}

/// `SampledValue`: one measured value. Only `value` is required; the specification
/// gives the defaults of the others (measurand `Energy.Active.Import.Register`,
/// context `Sample.Periodic`, format `Raw`, location `Outlet`, unit `Wh`), which are
/// applied where the values are stored, not here, so that a payload round-trips.
public struct SampledValue: JSONObjectCodable {
    /// A number as text for `Raw` format, an opaque signed blob for `SignedData`.
    public var value: String
    public var context: ReadingContext?
    public var format: ValueFormat?
    public var measurand: Measurand?
    public var phase: Phase?
    public var location: Location?
    public var unit: UnitOfMeasure?
    /// Tolerant decoding only: the enumerated fields whose values were outside their
    /// lists (chargers send units such as `kW.h` or vendor measurands), by field name,
    /// kept as sent; the typed field is then nil. Stored and written back as sent.
    public var unrecognized: [String: String] = [:]

    public init(
        value: String, context: ReadingContext? = nil, format: ValueFormat? = nil, measurand: Measurand? = nil,
        phase: Phase? = nil, location: Location? = nil, unit: UnitOfMeasure? = nil
    ) {
        self.value = value
        self.context = context
        self.format = format
        self.measurand = measurand
        self.phase = phase
        self.location = location
        self.unit = unit
    }

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {
        value = try reader.required("value")
        context = try reader.optional("context", keepingUnrecognizedIn: &unrecognized)
        format = try reader.optional("format", keepingUnrecognizedIn: &unrecognized)
        measurand = try reader.optional("measurand", keepingUnrecognizedIn: &unrecognized)
        phase = try reader.optional("phase", keepingUnrecognizedIn: &unrecognized)
        location = try reader.optional("location", keepingUnrecognizedIn: &unrecognized)
        unit = try reader.optional("unit", keepingUnrecognizedIn: &unrecognized)
    }

    public func encodeFields(to writer: inout JSONWriter) {
        writer.field("value", value)
        writer.field("context", context?.rawValue ?? unrecognized["context"])
        writer.field("format", format?.rawValue ?? unrecognized["format"])
        writer.field("measurand", measurand?.rawValue ?? unrecognized["measurand"])
        writer.field("phase", phase?.rawValue ?? unrecognized["phase"])
        writer.field("location", location?.rawValue ?? unrecognized["location"])
        writer.field("unit", unit?.rawValue ?? unrecognized["unit"])
    }
}

public enum ReadingContext: String, OCPPEnum {
    case interruptionBegin = "Interruption.Begin"
    case interruptionEnd = "Interruption.End"
    case sampleClock = "Sample.Clock"
    case samplePeriodic = "Sample.Periodic"
    case transactionBegin = "Transaction.Begin"
    case transactionEnd = "Transaction.End"
    case trigger = "Trigger"
    case other = "Other"
}

public enum ValueFormat: String, OCPPEnum {
    case raw = "Raw"
    case signedData = "SignedData"
}

public enum Measurand: String, OCPPEnum {
    case energyActiveExportRegister = "Energy.Active.Export.Register"
    case energyActiveImportRegister = "Energy.Active.Import.Register"
    case energyReactiveExportRegister = "Energy.Reactive.Export.Register"
    case energyReactiveImportRegister = "Energy.Reactive.Import.Register"
    case energyActiveExportInterval = "Energy.Active.Export.Interval"
    case energyActiveImportInterval = "Energy.Active.Import.Interval"
    case energyReactiveExportInterval = "Energy.Reactive.Export.Interval"
    case energyReactiveImportInterval = "Energy.Reactive.Import.Interval"
    case powerActiveExport = "Power.Active.Export"
    case powerActiveImport = "Power.Active.Import"
    case powerOffered = "Power.Offered"
    case powerReactiveExport = "Power.Reactive.Export"
    case powerReactiveImport = "Power.Reactive.Import"
    case powerFactor = "Power.Factor"
    case currentImport = "Current.Import"
    case currentExport = "Current.Export"
    case currentOffered = "Current.Offered"
    case voltage = "Voltage"
    case frequency = "Frequency"
    case temperature = "Temperature"
    case soc = "SoC"
    case rpm = "RPM"
}

public enum Phase: String, OCPPEnum {
    case l1 = "L1"
    case l2 = "L2"
    case l3 = "L3"
    case n = "N"
    case l1N = "L1-N"
    case l2N = "L2-N"
    case l3N = "L3-N"
    case l1L2 = "L1-L2"
    case l2L3 = "L2-L3"
    case l3L1 = "L3-L1"
}

public enum Location: String, OCPPEnum {
    case cable = "Cable"
    case ev = "EV"
    case inlet = "Inlet"
    case outlet = "Outlet"
    case body = "Body"
}

/// Units of measure. The schema spells Celsius both ways: "Celcius" (the original
/// typo, still sent by many chargers) and "Celsius". "Hertz", the unit of the
/// Frequency measurand, is in the MeterValues schema as published (the copy the
/// `ocpp` package ships) but not in StopTransaction's: read in both.
public enum UnitOfMeasure: String, OCPPEnum {
    case wh = "Wh"
    case kWh = "kWh"
    case varh = "varh"
    case kvarh = "kvarh"
    case w = "W"
    case kW = "kW"
    case va = "VA"
    case kVA = "kVA"
    case `var` = "var"
    case kvar = "kvar"
    case a = "A"
    case v = "V"
    case k = "K"
    case celcius = "Celcius"
    case celsius = "Celsius"
    case fahrenheit = "Fahrenheit"
    case percent = "Percent"
    case hertz = "Hertz"
}
