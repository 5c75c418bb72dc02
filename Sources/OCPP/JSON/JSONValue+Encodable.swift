extension JSONValue: JSONFieldEncodable {
    /// Lets an already-built value be written wherever a typed payload could be.
    public func encode(to writer: inout JSONWriter) { writer.value(self) }
}
