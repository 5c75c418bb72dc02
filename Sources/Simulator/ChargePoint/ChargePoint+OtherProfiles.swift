import Foundation
import OCPP
import Shared

/// Answers of the Reservation, LocalAuthListManagement and SmartCharging profiles.
extension ChargePoint {
    mutating func reserve(_ request: ReserveNowRequest) -> (any OCPPResponse, [FollowUp]) {
        // ReserveConnectorZeroSupported is false: a reservation names a connector.
        guard let connector = connector(request.connectorId) else {
            return (ReserveNowResponse(status: .rejected), [])
        }
        if connector.status == .faulted { return (ReserveNowResponse(status: .faulted), []) }
        if !connector.operative { return (ReserveNowResponse(status: .unavailable), []) }
        // A reservation with the same id replaces the old one (OCPP 1.6 §5.13).
        let sameReservation = connector.reservation?.id == request.reservationId
        if connector.transaction != nil || (connector.reservation != nil && !sameReservation)
            || connector.status != .available && !sameReservation
        {
            return (ReserveNowResponse(status: .occupied), [])
        }
        for id in connectorIDs where connectors[id - 1].reservation?.id == request.reservationId {
            connectors[id - 1].reservation = nil
            connectors[id - 1].status = connectors[id - 1].idleStatus
        }
        connectors[request.connectorId - 1].reservation = .init(id: request.reservationId, idTag: request.idTag)
        connectors[request.connectorId - 1].status = .reserved
        return (ReserveNowResponse(status: .accepted), [.reportStatus(connectorId: request.connectorId)])
    }

    mutating func cancelReservation(_ request: CancelReservationRequest) -> (any OCPPResponse, [FollowUp]) {
        guard let id = connectorIDs.first(where: { connectors[$0 - 1].reservation?.id == request.reservationId })
        else {
            return (CancelReservationResponse(status: .rejected), [])
        }
        connectors[id - 1].reservation = nil
        var followUps: [FollowUp] = []
        if connectors[id - 1].transaction == nil {
            connectors[id - 1].status = connectors[id - 1].idleStatus
            followUps.append(.reportStatus(connectorId: id))
        }
        return (CancelReservationResponse(status: .accepted), followUps)
    }

    mutating func sendLocalList(_ request: SendLocalListRequest) -> (any OCPPResponse, [FollowUp]) {
        let maxLength = configuration.integer("SendLocalListMaxLength") ?? 0
        let entries = request.localAuthorizationList ?? []
        guard entries.count <= maxLength else { return (SendLocalListResponse(status: .failed), []) }
        switch request.updateType {
        case .full:
            localList = [:]
            for entry in entries { localList[entry.idTag] = entry.idTagInfo }
        case .differential:
            // A differential update must move the list forward (OCPP 1.6 §5.15).
            guard request.listVersion > localListVersion else {
                return (SendLocalListResponse(status: .versionMismatch), [])
            }
            for entry in entries {
                // An entry without idTagInfo removes the tag.
                localList[entry.idTag] = entry.idTagInfo
            }
        }
        localListVersion = request.listVersion
        return (SendLocalListResponse(status: .accepted), [])
    }

    mutating func setChargingProfile(_ request: SetChargingProfileRequest) -> (any OCPPResponse, [FollowUp]) {
        let profile = request.csChargingProfiles
        let maxStackLevel = configuration.integer("ChargeProfileMaxStackLevel") ?? 0
        let valid: Bool =
            switch profile.chargingProfilePurpose {
            // A charge point maximum applies to the whole station: connector 0.
            case .chargePointMaxProfile: request.connectorId == 0
            // A TxProfile needs a running transaction on that connector.
            case .txProfile: connector(request.connectorId)?.transaction != nil
            case .txDefaultProfile: request.connectorId == 0 || connector(request.connectorId) != nil
            }
        guard valid, profile.stackLevel <= maxStackLevel,
            chargingProfiles.count < (configuration.integer("MaxChargingProfilesInstalled") ?? 0)
                || chargingProfiles[profile.chargingProfileId] != nil
        else {
            return (SetChargingProfileResponse(status: .rejected), [])
        }
        // A profile with the same purpose and stack level on the same connector is replaced.
        chargingProfiles = chargingProfiles.filter { _, installed in
            !(installed.connectorId == request.connectorId
                && installed.profile.chargingProfilePurpose == profile.chargingProfilePurpose
                && installed.profile.stackLevel == profile.stackLevel)
        }
        chargingProfiles[profile.chargingProfileId] = (request.connectorId, profile)
        return (SetChargingProfileResponse(status: .accepted), [])
    }

    mutating func clearChargingProfiles(_ request: ClearChargingProfileRequest) -> (any OCPPResponse, [FollowUp]) {
        let before = chargingProfiles.count
        chargingProfiles = chargingProfiles.filter { id, installed in
            if let wanted = request.id { return id != wanted }
            let matches =
                (request.connectorId.map { $0 == installed.connectorId } ?? true)
                && (request.chargingProfilePurpose.map { $0 == installed.profile.chargingProfilePurpose } ?? true)
                && (request.stackLevel.map { $0 == installed.profile.stackLevel } ?? true)
            return !matches
        }
        return (ClearChargingProfileResponse(status: chargingProfiles.count < before ? .accepted : .unknown), [])
    }

    /// The schedule that applies on a connector for `duration` seconds from now: the
    /// highest stack level of the Tx profiles, else of the TxDefault ones, capped by
    /// the charge point maximum (a simplification of OCPP 1.6 §3.13.2: the limit of
    /// the first period of each).
    func compositeSchedule(_ request: GetCompositeScheduleRequest) -> GetCompositeScheduleResponse {
        guard request.connectorId == 0 || connector(request.connectorId) != nil else {
            return GetCompositeScheduleResponse(status: .rejected)
        }
        func top(_ purpose: ChargingProfilePurpose, connectors: Set<Int>) -> ChargingProfile? {
            chargingProfiles.values
                .filter { $0.profile.chargingProfilePurpose == purpose && connectors.contains($0.connectorId) }
                .max { $0.profile.stackLevel < $1.profile.stackLevel }?.profile
        }
        let connectorSet: Set<Int> = [0, request.connectorId]
        let chosen = top(.txProfile, connectors: connectorSet) ?? top(.txDefaultProfile, connectors: connectorSet)
        let maximum = top(.chargePointMaxProfile, connectors: [0])
        guard let base = chosen ?? maximum else {
            // Nothing installed: no limit to report.
            return GetCompositeScheduleResponse(
                status: .accepted, connectorId: request.connectorId, scheduleStart: Date())
        }
        let unit = request.chargingRateUnit ?? base.chargingSchedule.chargingRateUnit
        var limit = base.chargingSchedule.chargingSchedulePeriod.first?.limit ?? 0
        if let maximum, let cap = maximum.chargingSchedule.chargingSchedulePeriod.first?.limit,
            maximum.chargingSchedule.chargingRateUnit == base.chargingSchedule.chargingRateUnit
        {
            limit = Swift.min(limit, cap)
        }
        let schedule = ChargingSchedule(
            duration: request.duration, startSchedule: Date(), chargingRateUnit: unit,
            chargingSchedulePeriod: [ChargingSchedulePeriod(startPeriod: 0, limit: limit)])
        return GetCompositeScheduleResponse(
            status: .accepted, connectorId: request.connectorId, scheduleStart: Date(), chargingSchedule: schedule)
    }
}
