import Hummingbird
import Prometheus

/// `/healthz` (the process is alive), `/readyz` (it can store what it acknowledges)
/// and `/metrics` (Prometheus text), served by the gateway and the worker alike.
public enum HealthRoutes {
    public static func add(
        to router: Router<BasicRequestContext>, registry: PrometheusCollectorRegistry,
        isReady: @escaping @Sendable () async -> Bool
    ) {
        router.get("/healthz") { _, _ in "ok\n" }
        router.get("/readyz") { _, _ -> Response in
            let ready = await isReady()
            return Response(
                status: ready ? .ok : .serviceUnavailable,
                body: .init(byteBuffer: ByteBuffer(string: ready ? "ready\n" : "database unreachable\n")))
        }
        router.get("/metrics") { _, _ -> Response in
            var bytes: [UInt8] = []
            registry.emit(into: &bytes)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }
    }
}
