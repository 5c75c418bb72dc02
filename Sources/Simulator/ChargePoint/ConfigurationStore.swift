import OCPP
import Shared

/// A charge point's configuration keys (OCPP 1.6 §9), as GetConfiguration and
/// ChangeConfiguration see them: the Core keys every charger has, and those of the
/// other profiles this simulator implements. Read-only keys refuse changes, values
/// are checked against their kind, and an unknown key is not supported.
struct ConfigurationStore: Sendable {
    enum Kind: Sendable {
        case integer
        case boolean
        /// A comma-separated list (CSL), e.g. measurands.
        case list
    }

    struct Entry: Sendable {
        var value: String
        var readonly: Bool
        var kind: Kind
        /// A change takes effect only after a reboot.
        var needsReboot = false
    }

    private var entries: [String: Entry]
    /// GetConfiguration without keys lists them in this order.
    private let order: [String]

    init(connectors: Int) {
        let keys: [(String, Entry)] = [
            ("AllowOfflineTxForUnknownId", Entry(value: "false", readonly: false, kind: .boolean)),
            ("AuthorizationCacheEnabled", Entry(value: "true", readonly: false, kind: .boolean)),
            ("AuthorizeRemoteTxRequests", Entry(value: "false", readonly: false, kind: .boolean)),
            ("ClockAlignedDataInterval", Entry(value: "0", readonly: false, kind: .integer)),
            ("ConnectionTimeOut", Entry(value: "60", readonly: false, kind: .integer)),
            ("ConnectorPhaseRotation", Entry(value: "0.RST,1.RST,2.RST", readonly: false, kind: .list)),
            ("GetConfigurationMaxKeys", Entry(value: "50", readonly: true, kind: .integer)),
            ("HeartbeatInterval", Entry(value: "300", readonly: false, kind: .integer)),
            ("LocalAuthorizeOffline", Entry(value: "true", readonly: false, kind: .boolean)),
            ("LocalPreAuthorize", Entry(value: "false", readonly: false, kind: .boolean)),
            ("MeterValuesAlignedData", Entry(value: "Energy.Active.Import.Register", readonly: false, kind: .list)),
            (
                "MeterValuesSampledData",
                Entry(
                    value: "Energy.Active.Import.Register,Power.Active.Import,Current.Import,Voltage,SoC,Temperature",
                    readonly: false, kind: .list)
            ),
            ("MeterValueSampleInterval", Entry(value: "60", readonly: false, kind: .integer)),
            ("NumberOfConnectors", Entry(value: String(connectors), readonly: true, kind: .integer)),
            ("ResetRetries", Entry(value: "3", readonly: false, kind: .integer)),
            ("StopTransactionOnEVSideDisconnect", Entry(value: "true", readonly: false, kind: .boolean)),
            ("StopTransactionOnInvalidId", Entry(value: "true", readonly: false, kind: .boolean)),
            ("StopTxnAlignedData", Entry(value: "", readonly: false, kind: .list)),
            ("StopTxnSampledData", Entry(value: "Energy.Active.Import.Register", readonly: false, kind: .list)),
            (
                "SupportedFeatureProfiles",
                Entry(
                    value: "Core,FirmwareManagement,LocalAuthListManagement,Reservation,SmartCharging,RemoteTrigger",
                    readonly: true, kind: .list)
            ),
            ("TransactionMessageAttempts", Entry(value: "3", readonly: false, kind: .integer)),
            ("TransactionMessageRetryInterval", Entry(value: "30", readonly: false, kind: .integer)),
            ("UnlockConnectorOnEVSideDisconnect", Entry(value: "true", readonly: false, kind: .boolean)),
            ("WebSocketPingInterval", Entry(value: "30", readonly: false, kind: .integer)),
            ("LocalAuthListEnabled", Entry(value: "true", readonly: false, kind: .boolean)),
            ("LocalAuthListMaxLength", Entry(value: "1000", readonly: true, kind: .integer)),
            ("SendLocalListMaxLength", Entry(value: "100", readonly: true, kind: .integer)),
            ("ReserveConnectorZeroSupported", Entry(value: "false", readonly: true, kind: .boolean)),
            ("ChargeProfileMaxStackLevel", Entry(value: "10", readonly: true, kind: .integer)),
            ("ChargingScheduleAllowedChargingRateUnit", Entry(value: "Current,Power", readonly: true, kind: .list)),
            ("ChargingScheduleMaxPeriods", Entry(value: "24", readonly: true, kind: .integer)),
            ("MaxChargingProfilesInstalled", Entry(value: "10", readonly: true, kind: .integer)),
            // Security whitepaper: the profile is changed by the operator and applies at reconnect.
            ("SecurityProfile", Entry(value: "0", readonly: false, kind: .integer, needsReboot: true)),
        ]
        entries = Dictionary(uniqueKeysWithValues: keys)
        order = keys.map(\.0)
    }

    /// GetConfiguration: the requested keys (all when none are named), and the names
    /// this charge point does not know.
    func get(_ keys: [String]?) -> GetConfigurationResponse {
        let requested = keys ?? order
        var known: [KeyValue] = []
        var unknown: [String] = []
        for key in requested {
            if let entry = entries[key] {
                known.append(KeyValue(key: key, readonly: entry.readonly, value: entry.value))
            } else {
                unknown.append(key)
            }
        }
        return GetConfigurationResponse(
            configurationKey: known.isEmpty ? nil : known, unknownKey: unknown.isEmpty ? nil : unknown)
    }

    /// ChangeConfiguration.
    mutating func change(_ key: String, to value: String) -> ConfigurationStatus {
        guard var entry = entries[key] else { return .notSupported }
        guard !entry.readonly else { return .rejected }
        switch entry.kind {
        case .integer:
            guard let number = Int(value), number >= 0 else { return .rejected }
        case .boolean:
            guard value == "true" || value == "false" else { return .rejected }
        case .list:
            break
        }
        entry.value = value
        entries[key] = entry
        return entry.needsReboot ? .rebootRequired : .accepted
    }

    func integer(_ key: String) -> Int? {
        entries[key].flatMap { Int($0.value) }
    }

    func boolean(_ key: String) -> Bool {
        entries[key]?.value == "true"
    }
}
