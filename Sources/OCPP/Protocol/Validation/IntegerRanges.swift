/// The ranges of integer fields that the OCPP 1.6 schemas leave unbounded but the
/// specification's text, or the column a value is stored in, bounds. Checked when a
/// payload is read, so that a value the database cannot hold is refused with
/// PropertyConstraintViolation before it is acknowledged, never trapped on or set
/// aside later.
extension ClosedRange<Int> {
    /// A 32-bit signed integer: transaction ids (an `integer` sequence that chargers
    /// keep in 32 bits), reservation ids and request ids.
    public static let int32 = Int(Int32.min)...Int(Int32.max)
    /// A connector id where 0 means the charge point as a whole (StatusNotification,
    /// MeterValues: `connectorId >= 0`).
    public static let connectorID = 0...Int(Int32.max)
    /// The connector of a transaction (StartTransaction: `connectorId > 0`).
    public static let transactionConnectorID = 1...Int(Int32.max)
}
