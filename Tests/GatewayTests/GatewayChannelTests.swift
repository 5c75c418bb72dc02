import Foundation
import Testing

@testable import Gateway

/// The gateway notices are parsed strictly: anything else is ignored by the listener.
@Suite("Gateway channel messages")
struct GatewayChannelTests {
    @Test func parsesTakeoverAndOutboundNotices() {
        let session = UUID()
        #expect(
            GatewayChannel.parse(GatewayChannel.takeoverMessage(stationID: 7, sessionID: session))
                == .takeover(stationID: 7, sessionID: session))
        #expect(GatewayChannel.parse("outbound 42") == .outbound(stationID: 42))
    }

    @Test(arguments: ["", "outbound", "outbound x", "outbound 1 2", "takeover 1", "takeover 1 not-a-uuid", "hello 1"])
    func ignoresMalformedNotices(_ payload: String) {
        #expect(GatewayChannel.parse(payload) == nil)
    }
}
