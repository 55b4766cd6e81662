import EdgeAssets
import EdgeCollector
import EdgeCore
import EdgeSources
import EdgeTestSupport
import Foundation
import Testing

@Suite("Simulated fleet")
struct SimulatorTests {
    static let start = 1_764_230_400.0

    static func run(seed: UInt64, seconds: Double = 8, rate: Double = 20_000) throws -> FleetSnapshot {
        let c = Collector()
        let sim = FleetSimulator(topology: try Topology.embedded(), collector: c,
                                 config: SimulatorConfig(seed: seed, latencySamplesPerSecond: rate), start: start)
        sim.advance(to: start + seconds)
        c.drain()
        return c.snapshot(at: start + seconds)
    }

    @Test("the embedded topology has ~4,400 sites in ~130 countries and 13 regions")
    func topologyShape() throws {
        let t = try Topology.embedded()
        #expect(t.sites.count == 4_400)
        #expect(Set(t.sites.map(\.country)).count >= 120)
        #expect(Set(t.sites.map(\.region)).count == 13)
        #expect(t.regionNames.count == 13)
        #expect(Set(t.sites.map(\.id)).count == t.sites.count, "site ids are unique")
        #expect(t.sites.allSatisfy { (1...4).contains($0.nodes) && [1, 2, 4, 8].contains($0.gpusPerNode) })
        #expect(t.sites.contains { $0.city == "São Paulo" })
    }

    @Test("the compiled-in assets match Assets/ (rerun scripts/embed_assets.py after editing)")
    func embeddedAssetsUpToDate() throws {
        let dir = repositoryRoot().appendingPathComponent("Assets")
        let files = FileManager.default.enumerator(atPath: dir.path)?.compactMap { $0 as? String } ?? []
        var onDisk: [String: String] = [:]
        for f in files {
            var isDir: ObjCBool = false
            let path = dir.appendingPathComponent(f).path
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue {
                onDisk[f] = try String(contentsOfFile: path, encoding: .utf8)
            }
        }
        #expect(Set(onDisk.keys) == Set(EmbeddedAssets.files.keys))
        for (name, text) in onDisk {
            #expect(EmbeddedAssets.files[name] == text.trimmingSuffixNewlines(), "\(name) differs")
        }
    }

    @Test("a bad topology line is reported with its line number")
    func badTopology() {
        #expect(throws: Topology.ParseError.self) {
            try Topology(regionsTSV: "", sitesTSV: "# header\nWEU\tfra1\tFrankfurt\tDE\tnot-a-number\t8.6\t2\t4\t100\n")
        }
        do {
            _ = try Topology(regionsTSV: "", sitesTSV: "# header\nWEU\tfra1\n")
        } catch let e as Topology.ParseError {
            #expect(e.line == 2)
        } catch { Issue.record("unexpected \(error)") }
    }

    @Test("same seed, same fleet; another seed, another fleet")
    func deterministic() throws {
        let a = try Self.run(seed: 42), b = try Self.run(seed: 42), c = try Self.run(seed: 43)
        // NaN (no data) never equals itself, so compare the printed form.
        let same = a.nodes.map { String(describing: $0) } == b.nodes.map { String(describing: $0) }
        #expect(same, "two runs with seed 42 differ")
        #expect(String(describing: a.fleet) == String(describing: b.fleet))
        #expect(a.fleet.latency != c.fleet.latency)
        #expect(a.fleet.health != c.fleet.health)
    }

    @Test("the default fleet looks like a real one: mostly healthy, some of every fault, plausible figures")
    func plausible() throws {
        let s = try Self.run(seed: 1)
        let h = s.fleet.health
        #expect(s.regions.count == 13)
        #expect(s.sites.count == 4_400)
        #expect(h.total > 8_000)
        #expect(Double(h.healthy) / Double(h.total) > 0.85)
        #expect(h.down > 0 && h.degraded > 0 && h.stale > 0)
        #expect(Double(h.down) / Double(h.total) < 0.05)
        #expect((20...150).contains(s.fleet.latency.p50))
        #expect(s.fleet.latency.p99 > s.fleet.latency.p50 && s.fleet.latency.p99 < 2_000)
        #expect((20...95).contains(s.fleet.gpuUtilPct))
        #expect(s.nodes.contains { $0.reason.contains("Xid") })
        #expect(s.nodes.contains { $0.reason.contains("thermal") })
        // Industrial-control sites meet their 50 ms tier when nothing is wrong.
        let control = s.nodes.filter { $0.tierMs == 50 && $0.health == .healthy && $0.latency.count > 50 }
        #expect(!control.isEmpty && control.allSatisfy { $0.latency.p99 <= 50 })
        #expect(s.ingest.invalid == 0)
    }
}

extension String {
    func trimmingSuffixNewlines() -> String {
        var s = self
        while s.hasSuffix("\n") { s.removeLast() }
        return s
    }
}
