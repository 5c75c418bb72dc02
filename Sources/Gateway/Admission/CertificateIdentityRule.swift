/// Security profile 3: a station certificate opens only its own station's endpoint.
///
/// The certificate belongs to the identity in the URL when its subject CN, or one of its
/// subjectAlternativeName DNS names, equals the identity exactly (case-sensitive, like
/// identities everywhere else). The whitepaper puts the charge point's serial number in
/// the CN (A00.FR.405); stations whose identity differs from it can carry the identity as
/// a SAN. With a required organization, the subject O must equal it (A00.FR.404). It
/// must carry the clientAuth extended key usage: a server's or a code-signing
/// certificate from the same CA opens nothing.
struct CertificateIdentityRule: Sendable {
    var requiredOrganization: String?

    /// Why `certificate` may not open `identity`'s endpoint, or nil when it may.
    func refusal(identity: String, certificate: StationCertificate?) -> String? {
        guard let certificate else { return "no client certificate" }
        guard certificate.allowsClientAuthentication else {
            return "client certificate lacks the clientAuth extended key usage"
        }
        guard certificate.commonNames.contains(identity) || certificate.dnsNames.contains(identity) else {
            return
                "client certificate (CN \(certificate.commonNames), SAN \(certificate.dnsNames)) is not for this identity"
        }
        if let requiredOrganization, !certificate.organizations.contains(requiredOrganization) {
            return "client certificate organization \(certificate.organizations) is not \(requiredOrganization)"
        }
        return nil
    }
}
