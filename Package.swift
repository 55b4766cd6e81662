// swift-tools-version: 6.0
import PackageDescription

// Every target gets the same strictness: Swift 6 language mode (strict concurrency) and
// explicit existentials.
let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "edgetop",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "edgetop", targets: ["edgetop"]),
        .executable(name: "edgetop-fuzz", targets: ["edgetop-fuzz"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // Only for `edgetop bench`, to compare our histogram against a well-known one.
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", exact: "0.2.0"),
        // YAML for --config (small: libyaml plus a Swift layer).
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        // libncursesw, wide-character API. Only EdgeTerminal imports it.
        .systemLibrary(
            name: "CNCursesW",
            path: "Modules/CNCursesW",
            providers: [.apt(["libncurses-dev"])]
        ),
        // zlib, for gzip request bodies (OTLP/HTTP).
        .systemLibrary(
            name: "CZlib",
            path: "Modules/CZlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        // OpenSSL (libssl-dev), for https scrapes and queries through our own HTTP client.
        .systemLibrary(
            name: "COpenSSL",
            path: "Modules/COpenSSL",
            providers: [.apt(["libssl-dev"])]
        ),
        // epoll and eventfd wrappers (header only) for the HTTP client's event loop.
        .systemLibrary(name: "CEdgeLinux", path: "Modules/CEdgeLinux"),
        // Values: samples, histogram, health states, latency tiers. No dependencies.
        .target(name: "EdgeCore", swiftSettings: strict),
        // Files from Assets/, compiled in so a lone binary works anywhere (generated).
        .target(name: "EdgeAssets", swiftSettings: strict),
        // Region queues, sliding windows, health rules, immutable snapshots.
        .target(name: "EdgeCollector", dependencies: ["EdgeCore"], swiftSettings: strict),
        // Where samples come from: the simulated fleet, JSONL replay, scrapes, StatsD, OTLP.
        .target(name: "EdgeSources", dependencies: ["EdgeCollector", "EdgeAssets", "CZlib", "COpenSSL", "CEdgeLinux",
                                                    .product(name: "Yams", package: "Yams")], swiftSettings: strict),
        // Pure presentation: view model, formats, cell grid, UI state machine.
        .target(name: "EdgeViews", dependencies: ["EdgeCollector", "EdgeAssets"], swiftSettings: strict),
        // The curses backend: the only code that touches the terminal.
        .target(name: "EdgeTerminal", dependencies: ["EdgeViews", "CNCursesW"], swiftSettings: strict),
        .executableTarget(
            name: "edgetop",
            dependencies: [
                "EdgeCore", "EdgeCollector", "EdgeSources", "EdgeViews", "EdgeTerminal", "CEdgeLinux",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            swiftSettings: strict
        ),
        // One harness per parser, each with an invariant beyond "no crash" (docs/reliability.md).
        .target(name: "EdgeFuzzing", dependencies: ["EdgeSources"], swiftSettings: strict),
        // libFuzzer entry point (scripts/fuzz.sh), or a runner of saved inputs when built plainly.
        .executableTarget(name: "edgetop-fuzz", dependencies: ["EdgeFuzzing"], swiftSettings: strict),
        // Builders and fakes shared by the test targets.
        .target(name: "EdgeTestSupport", dependencies: ["EdgeCore", "EdgeCollector"], path: "Tests/EdgeTestSupport", swiftSettings: strict),
        .testTarget(name: "EdgeCoreTests", dependencies: ["EdgeCore", "EdgeTestSupport"], swiftSettings: strict),
        .testTarget(name: "EdgeCollectorTests", dependencies: ["EdgeCollector", "EdgeTestSupport"], swiftSettings: strict),
        .testTarget(name: "EdgeSourcesTests", dependencies: ["EdgeSources", "EdgeTestSupport"], resources: [.copy("Fixtures")], swiftSettings: strict),
        .testTarget(name: "EdgeViewsTests", dependencies: ["EdgeViews", "EdgeSources", "EdgeTestSupport"], resources: [.copy("Golden")], swiftSettings: strict),
        .testTarget(name: "EdgeFuzzingTests", dependencies: ["EdgeFuzzing"], resources: [.copy("Corpus")], swiftSettings: strict),
        .testTarget(name: "EndToEndTests", dependencies: ["EdgeTestSupport", "EdgeSources"], exclude: ["Scripts"], swiftSettings: strict),
    ],
    swiftLanguageModes: [.v6]
)
