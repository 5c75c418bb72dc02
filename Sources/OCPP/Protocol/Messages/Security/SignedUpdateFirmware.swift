import Foundation

/// SignedUpdateFirmware, central system → charge point (security whitepaper).
///
/// Asks the charge point to download, verify and install signed firmware. It
/// replaces UpdateFirmware; progress is reported with
/// SignedFirmwareStatusNotification.
public struct SignedUpdateFirmwareRequest: OCPPRequest {
    public typealias Response = SignedUpdateFirmwareResponse
    public static let action = OCPPAction.signedUpdateFirmware

    /// How many times to try the download before giving up.
    public var retries: Int?
    /// Seconds between attempts.
    public var retryInterval: Int?
    /// Echoed in the SignedFirmwareStatusNotification.req of this update.
    public var requestId: Int
    public var firmware: Firmware

    public init(requestId: Int, firmware: Firmware, retries: Int? = nil, retryInterval: Int? = nil) {
        self.requestId = requestId
        self.firmware = firmware
        self.retries = retries
        self.retryInterval = retryInterval
    }

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {
        retries = try reader.optional("retries")
        retryInterval = try reader.optional("retryInterval")
        requestId = try reader.required("requestId")
        firmware = try reader.required("firmware")
    }

    public func encodeFields(to writer: inout JSONWriter) {
        writer.field("retries", retries)
        writer.field("retryInterval", retryInterval)
        writer.field("requestId", requestId)
        writer.field("firmware", firmware)
    }
}

/// `FirmwareType`: the firmware image to install and how to verify it.
public struct Firmware: JSONObjectCodable {
    /// The URI to download the firmware from. At most 512 characters.
    public var location: String
    /// When to download the firmware.
    public var retrieveDateTime: Date
    /// When to install the firmware.
    public var installDateTime: Date?
    /// The PEM-encoded X.509 certificate the firmware was signed with. At most 5500
    /// characters.
    public var signingCertificate: String
    /// The Base64 firmware signature. At most 800 characters.
    public var signature: String

    public init(
        location: String, retrieveDateTime: Date, installDateTime: Date? = nil, signingCertificate: String,
        signature: String
    ) {
        self.location = location
        self.retrieveDateTime = retrieveDateTime
        self.installDateTime = installDateTime
        self.signingCertificate = signingCertificate
        self.signature = signature
    }

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {
        location = try reader.required("location", maxLength: 512)
        retrieveDateTime = try reader.required("retrieveDateTime")
        installDateTime = try reader.optional("installDateTime")
        signingCertificate = try reader.required("signingCertificate", maxLength: 5500)
        signature = try reader.required("signature", maxLength: 800)
    }

    public func encodeFields(to writer: inout JSONWriter) {
        writer.field("location", location)
        writer.field("retrieveDateTime", retrieveDateTime)
        writer.field("installDateTime", installDateTime)
        writer.field("signingCertificate", signingCertificate)
        writer.field("signature", signature)
    }
}

/// SignedUpdateFirmware.conf: whether the charge point starts the update.
public struct SignedUpdateFirmwareResponse: OCPPResponse {
    public var status: SignedUpdateFirmwareStatus

    public init(status: SignedUpdateFirmwareStatus) {
        self.status = status
    }

    public init(from reader: inout JSONObjectReader) throws(ValidationError) {
        status = try reader.required("status")
    }

    public func encodeFields(to writer: inout JSONWriter) {
        writer.field("status", status)
    }
}

/// `UpdateFirmwareStatusEnumType` of the security whitepaper.
public enum SignedUpdateFirmwareStatus: String, OCPPEnum {
    case accepted = "Accepted"
    case rejected = "Rejected"
    /// Accepted, and an update in progress was canceled for it.
    case acceptedCanceled = "AcceptedCanceled"
    /// The signing certificate is invalid.
    case invalidCertificate = "InvalidCertificate"
    /// The signing certificate has been revoked.
    case revokedCertificate = "RevokedCertificate"
}
