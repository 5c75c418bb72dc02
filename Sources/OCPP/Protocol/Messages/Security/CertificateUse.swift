/// `CertificateUseEnumType` (security whitepaper): the kind of root certificate,
/// in GetInstalledCertificateIds.req and InstallCertificate.req.
public enum CertificateUse: String, OCPPEnum {
    /// Root of the CA that signs the central system and charge point certificates.
    case centralSystemRootCertificate = "CentralSystemRootCertificate"
    /// Root used to verify the manufacturer's (firmware signing) certificate.
    case manufacturerRootCertificate = "ManufacturerRootCertificate"
}
