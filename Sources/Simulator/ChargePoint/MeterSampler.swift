import Foundation
import OCPP
import Shared

/// The ten values a three-phase AC charger typically reports each sample interval:
/// the energy register, active power, current and voltage per phase, the car's state
/// of charge and the charger's temperature. Each is distinct in (measurand, phase,
/// location), the key a central system stores a reading under.
enum MeterSampler {
    static let valuesPerSample = 10

    /// One reading at `time`: `energyWh` is the register, `powerW` the power drawn
    /// since the last one, `elapsed` seconds since the transaction started.
    static func sample(
        at time: Date, energyWh: Int, powerW: Double, elapsed: Double, context: ReadingContext = .samplePeriodic
    ) -> MeterValue {
        // Small wobble so that the series look measured, not constant.
        let wobble = sin(elapsed / 17) * 0.02
        let voltages = [230.1 + wobble * 40, 229.4 - wobble * 30, 231.0 + wobble * 20]
        let current = powerW / 3 / 230
        let soc = min(100, 20 + Int(elapsed / 60))
        func value(
            _ text: String, _ measurand: Measurand, _ unit: UnitOfMeasure, phase: Phase? = nil,
            location: Location = .outlet
        ) -> SampledValue {
            SampledValue(
                value: text, context: context, measurand: measurand, phase: phase, location: location, unit: unit)
        }
        return MeterValue(
            timestamp: time,
            sampledValue: [
                value(String(energyWh), .energyActiveImportRegister, .wh),
                value(format(powerW, digits: 0), .powerActiveImport, .w),
                value(format(current * (1 + wobble), digits: 2), .currentImport, .a, phase: .l1),
                value(format(current * (1 - wobble), digits: 2), .currentImport, .a, phase: .l2),
                value(format(current, digits: 2), .currentImport, .a, phase: .l3),
                value(format(voltages[0], digits: 1), .voltage, .v, phase: .l1N),
                value(format(voltages[1], digits: 1), .voltage, .v, phase: .l2N),
                value(format(voltages[2], digits: 1), .voltage, .v, phase: .l3N),
                value(String(soc), .soc, .percent, location: .ev),
                value(format(31 + wobble * 100, digits: 1), .temperature, .celsius, location: .body),
            ])
    }

    /// Fixed-point text without Foundation's formatter, which is slow at load-test rates.
    static func format(_ number: Double, digits: Int) -> String {
        var scale = 1
        for _ in 0..<digits { scale *= 10 }
        let scaled = Int((number * Double(scale)).rounded())
        let sign = scaled < 0 ? "-" : ""
        let magnitude = abs(scaled)
        guard digits > 0 else { return sign + String(magnitude) }
        let fraction = String(magnitude % scale)
        return sign + String(magnitude / scale) + "." + String(repeating: "0", count: digits - fraction.count)
            + fraction
    }
}
