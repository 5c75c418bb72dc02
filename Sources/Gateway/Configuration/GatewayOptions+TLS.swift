import OCPP
import Shared

extension GatewayOptions {
    fileprivate typealias Setting = TLSSettings.Setting

    /// The TLS listener's settings, or nil when no certificate is configured. The files
    /// are only named here; ``TLSContextFactory`` reads and checks them.
    func resolveTLS(_ settings: SettingsResolver) throws(ConfigurationError) -> TLSSettings? {
        let certificate = settings.text(Setting.certificateChain, flag: tlsCert)
        let key = settings.text(Setting.privateKey, flag: tlsKey)
        let clientCA = settings.text(Setting.clientCA, flag: tlsClientCa)
        let organization = settings.text(Setting.clientOrganization, flag: tlsClientOrganization)
        let revocationList = settings.text(Setting.revocationList, flag: tlsCrl)
        guard let certificate, let key else {
            // Half a configuration must not silently mean "no TLS".
            if certificate != nil {
                throw ConfigurationError(
                    setting: Setting.privateKey, reason: "is required with \(Setting.certificateChain)")
            }
            if key != nil {
                throw ConfigurationError(
                    setting: Setting.certificateChain, reason: "is required with \(Setting.privateKey)")
            }
            if clientCA != nil {
                throw ConfigurationError(
                    setting: Setting.clientCA, reason: "needs \(Setting.certificateChain) and \(Setting.privateKey)")
            }
            if organization != nil {
                throw ConfigurationError(setting: Setting.clientOrganization, reason: "needs \(Setting.clientCA)")
            }
            if revocationList != nil {
                throw ConfigurationError(setting: Setting.revocationList, reason: "needs \(Setting.clientCA)")
            }
            return nil
        }
        var result = TLSSettings(certificateChainPath: certificate, privateKeyPath: key)
        result.port = try settings.integer(Setting.port, flag: tlsPort, default: result.port, range: 0...65535)
        result.clientCAPath = clientCA
        if organization != nil, clientCA == nil {
            throw ConfigurationError(setting: Setting.clientOrganization, reason: "needs \(Setting.clientCA)")
        }
        result.clientOrganization = organization
        if revocationList != nil, clientCA == nil {
            // The lists are for station certificates, which only profile 3 asks for.
            throw ConfigurationError(setting: Setting.revocationList, reason: "needs \(Setting.clientCA)")
        }
        result.revocationListPath = revocationList
        result.reloadInterval = try settings.duration(
            Setting.reloadInterval, flag: tlsReloadInterval, default: result.reloadInterval, unit: .seconds(1),
            range: 0...86_400)
        return result
    }
}
