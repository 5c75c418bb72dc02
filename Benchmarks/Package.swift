// swift-tools-version: 6.1
import PackageDescription

// The benchmarks live in their own package so that the benchmark dependency stays
// out of the product's build graph. Run: `swift package benchmark` in this folder.
let package = Package(
    name: "ocpp-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: ".."),
        // The MallocInterposer trait alone: the default trait set pulls in a package
        // the local mirror does not carry.
        .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "ProtocolBenchmarks",
            dependencies: [
                .product(name: "OCPP", package: "main"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "ProtocolBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    ]
)
