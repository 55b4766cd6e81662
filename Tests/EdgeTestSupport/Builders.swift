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
    _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
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

/// A small fleet with every health state, a hostile node name and a wide-character site name,
/// built through the real collector. Snapshot time is `demoTime`.
public let demoTime = 1_764_230_460.0

public func demoSnapshot(window: Double = 60) -> FleetSnapshot {
    let c = Collector(config: CollectorConfig(windowSeconds: window, intervalSeconds: 1))
    let nodes: [NodePlacement] = [
        NodePlacement(regionID: "WEU", regionName: "Western Europe", siteID: "fra1", siteName: "Frankfurt am Main", country: "DE", nodeID: "fra1-n01", tierMs: 100, gpuCount: 2),
        NodePlacement(regionID: "WEU", regionName: "Western Europe", siteID: "fra1", siteName: "Frankfurt am Main", country: "DE", nodeID: "fra1-n02", tierMs: 100, gpuCount: 2),
        NodePlacement(regionID: "WEU", regionName: "Western Europe", siteID: "zrh1", siteName: "Zürich", country: "CH", nodeID: "zrh1-n01", tierMs: 50, gpuCount: 1),
        NodePlacement(regionID: "NEAS", regionName: "Northeast Asia", siteID: "tyo1", siteName: "東京", country: "JP", nodeID: "tyo1-n01", tierMs: 200, gpuCount: 4),
        NodePlacement(regionID: "NEAS", regionName: "Northeast Asia", siteID: "tyo1", siteName: "東京", country: "JP", nodeID: "tyo1-n02\u{1B}[2J\u{7}evil", tierMs: 200, gpuCount: 1),
        NodePlacement(regionID: "NEAS", regionName: "Northeast Asia", siteID: "sel1", siteName: "Seoul", country: "KR", nodeID: "sel1-n01", tierMs: 500, gpuCount: 1),
    ]
    let refs = c.register(nodes)
    var batch: [Sample] = []
    let now = demoTime
    func add(_ i: Int, _ metric: Metric, _ value: Double, gpu: UInt8 = 0, age: Double = 0.5) {
        batch.append(Sample(node: refs[i], time: now - age, metric: metric, value: value, gpu: gpu))
    }
    for i in 0..<nodes.count where i != 5 {
        add(i, .up, i == 1 ? 0 : 1)
        for g in 0..<nodes[i].gpuCount {
            add(i, .gpuUtil, Double(40 + 10 * i + g), gpu: UInt8(g))
            add(i, .gpuTempC, i == 2 && g == 0 ? 91 : Double(55 + i), gpu: UInt8(g))
            add(i, .gpuMemUsedMiB, 20_000, gpu: UInt8(g))
            add(i, .gpuMemTotalMiB, 46_068, gpu: UInt8(g))
            add(i, .gpuPowerW, 250, gpu: UInt8(g))
        }
        for k in 0..<100 {
            let base = [12.0, 15, 20, 150, 140, 90][i]
            add(i, .latencyMs, base + Double(k % 20) * (i == 3 ? 8 : 0.5), age: Double(k) * 0.3)
        }
    }
    add(3, .xid, 63, gpu: 2, age: 4)
    add(5, .up, 1, age: 20)  // silent since
    c.ingest(batch)
    return c.snapshot(at: now)
}

/// Start time of the pinned simulated fleet the golden screens are drawn from.
public let pinnedFleetStart = 1_764_230_400.0
