import EdgeCollector
import EdgeCore
import Foundation

/// A deterministic generator for property tests (SplitMix64).
public struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The exact nearest-rank quantile of `sorted` values: the value at rank ⌈q·n⌉ (at least 1).
public func exactQuantile(_ sorted: [Double], _ q: Double) -> Double {
    precondition(!sorted.isEmpty)
    let rank = max(1, Int((q * Double(sorted.count)).rounded(.up)))
    return sorted[min(sorted.count, rank) - 1]
}

/// Relative error of `estimate` against `exact`.
public func relativeError(_ estimate: Double, _ exact: Double) -> Double {
    exact == 0 ? abs(estimate) : abs(estimate - exact) / abs(exact)
}

/// A placement with the given ids and defaults for the rest.
public func placement(_ node: String, site: String = "s1", region: String = "r1", tierMs: Double = 500,
                      gpus: Int = 0) -> NodePlacement {
    NodePlacement(regionID: region, siteID: site, nodeID: node, tierMs: tierMs, gpuCount: gpus)
}

/// A temporary file holding `text`; removed by the caller.
public func temporaryFile(_ text: String, suffix: String = ".jsonl") -> String {
    let path = NSTemporaryDirectory() + "edgetop-test-\(UUID().uuidString)\(suffix)"
    FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
    return path
}

/// The repository root (tests read Assets/ and compare golden files against it).
public func repositoryRoot(_ file: String = #filePath) -> URL {
    var url = URL(fileURLWithPath: file)
    while url.path != "/" {
        url.deleteLastPathComponent()
        if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url }
    }
    return URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
}
