/// A failure the simulator reports to its user as one line (bad input, a refused
/// connection, a verification that found differences).
struct SimulatorError: Error, Sendable, CustomStringConvertible {
    var description: String

    init(_ description: String) {
        self.description = description
    }
}
