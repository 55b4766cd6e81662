import EdgeCollector
import EdgeCore
import EdgeTestSupport
import Foundation
import Testing

@Suite("Collector")
struct CollectorTests {
    let t0 = 1_764_230_400.0

    func collector(window: Double = 60, interval: Double = 1) -> Collector {
        Collector(config: CollectorConfig(windowSeconds: window, intervalSeconds: interval))
    }

    @Test("nodes registered one at a time are there for the next batch, read and snapshot, past the hand-over size too")
    func registrationsHandedOverBeforeUse() {
        let c = collector()
        var refs: [NodeRef] = []
        for i in 0..<5_000 {  // more than one hand-over (4,096) and a partial one
            refs.append(c.register(placement("n\(i)", site: "s\(i % 50)", region: "r\(i % 3)")))
        }
        #expect(c.register(placement("n17", site: "elsewhere", region: "r9")) == refs[17], "a known node keeps its ref")
        #expect(c.placement(of: refs[4_999])?.nodeID == "n4999", "read before any batch")
        c.ingest(refs.enumerated().map { Sample(node: $1, time: t0 + 1, metric: .latencyMs, value: Double($0 % 100) + 1) })
        refs.append(c.register(placement("late", region: "r1")))
        c.ingest([Sample(node: refs.last!, time: t0 + 2, metric: .latencyMs, value: 7)])
        let snap = c.snapshot(at: t0 + 3)
        #expect(snap.nodes.count == 5_001)
        #expect(snap.fleet.latency.count == 5_001)
        #expect(snap.ingest.invalid == 0)
        #expect(snap.nodes.first { $0.id == "late" }?.latency.count == 1)
    }

    @Test("latency at node, site, region and fleet comes from merged histograms (within 1 % of exact)")
    func rollupsFromMergedHistograms() {
        let c = collector()
        var rng = SeededGenerator(seed: 11)
        let layout = [("r1", "s1", "a"), ("r1", "s1", "b"), ("r1", "s2", "c"), ("r2", "s3", "d"), ("r2", "s3", "e")]
        let refs = c.register(layout.map { placement($0.2, site: $0.1, region: $0.0) })
        var values: [String: [Double]] = [:]
        var batch: [Sample] = []
        for (i, ref) in refs.enumerated() {
            // Each node gets its own speed and volume, so averaging would be visibly wrong.
            let scale = [5.0, 20, 80, 300, 1200][i]
            for k in 0..<(1000 * (i + 1)) {
                let v = scale * Double.random(in: 0.5...2, using: &rng)
                batch.append(Sample(node: ref, time: t0 + Double(k % 10), metric: .latencyMs, value: v))
                for key in [layout[i].2, layout[i].1, layout[i].0, "fleet"] { values[key, default: []].append(v) }
            }
        }
        c.ingest(batch)
        let snap = c.snapshot(at: t0 + 10)
        func check(_ key: String, _ l: LatencySummary) {
            let sorted = values[key]!.sorted()
            #expect(l.count == UInt64(sorted.count), "\(key) count")
            #expect(relativeError(l.p50, exactQuantile(sorted, 0.5)) <= 0.01, "\(key) p50")
            #expect(relativeError(l.p90, exactQuantile(sorted, 0.9)) <= 0.01, "\(key) p90")
            #expect(relativeError(l.p99, exactQuantile(sorted, 0.99)) <= 0.01, "\(key) p99")
            #expect(l.max == sorted.last, "\(key) max")
        }
        check("fleet", snap.fleet.latency)
        for r in snap.regions { check(r.id, r.latency) }
        for s in snap.sites { check(s.id, s.latency) }
        for n in snap.nodes { check(n.id, n.latency) }
        #expect(snap.regions.map(\.id) == ["r1", "r2"])
        #expect(snap.sites.map(\.id) == ["s1", "s2", "s3"])
        #expect(snap.ingest.samples == UInt64(batch.count))
    }

    @Test("a node that goes quiet leaves the window without ever recording again, and its memory is freed")
    func quietNodeExpires() {
        let c = collector(window: 60)
        let quiet = c.register(placement("quiet")), busy = c.register(placement("busy"))
        c.ingest((0..<500).map { Sample(node: quiet, time: t0 + Double($0) * 0.02, metric: .latencyMs, value: 5 + Double($0 % 300)) })
        // The busy node crosses sub-window boundaries; the quiet one never records again.
        func busyUntil(_ end: Int, from start: Int) {
            for k in start..<end { c.ingest([Sample(node: busy, time: t0 + 10 + Double(k) * 10, metric: .latencyMs, value: 20)]) }
        }
        busyUntil(3, from: 0)
        let early = c.snapshot(at: t0 + 35)
        #expect(early.nodes.first { $0.id == "quiet" }?.latency.count == 500, "still inside the window")
        let bytesBefore = c.stateBytes()
        busyUntil(12, from: 3)
        let late = c.snapshot(at: t0 + 125)
        #expect(late.nodes.first { $0.id == "quiet" }?.latency.count == 0, "gone once the window has passed")
        #expect(late.nodes.first { $0.id == "busy" }?.latency.count == 6)
        #expect(c.stateBytes() < bytesBefore, "the quiet node's finished sub-windows were freed")
    }

    @Test("samples leave the sliding window whole sub-windows at a time")
    func windowExpiry() {
        let c = collector(window: 60)
        let ref = c.register(placement("n1"))
        c.ingest((0..<100).map { Sample(node: ref, time: t0 + Double($0) * 0.05, metric: .latencyMs, value: 10) })
        c.ingest([Sample(node: ref, time: t0 + 40, metric: .latencyMs, value: 500)])
        #expect(c.snapshot(at: t0 + 41).nodes[0].latency.count == 101)
        // At t0+75 the first sub-window (t0…t0+10) has left; the sample at t0+40 remains.
        let later = c.snapshot(at: t0 + 75).nodes[0].latency
        #expect(later.count == 1)
        #expect(later.max == 500)
        #expect(c.snapshot(at: t0 + 500).nodes[0].latency.count == 0)
    }

    @Test("requests per second are counted over the time the window covers")
    func requestRate() {
        let c = collector(window: 60)
        let ref = c.register(placement("n1"))
        c.ingest((0..<200).map { Sample(node: ref, time: t0 + Double($0) * 0.1, metric: .latencyMs, value: 10) })
        let snap = c.snapshot(at: t0 + 20)
        #expect(abs(snap.nodes[0].rps - 10) < 0.01)
    }

    @Test("health: up=0 and fatal Xid are DOWN, heat and other Xids DEGRADED, silence STALE")
    func healthRules() {
        let c = collector(interval: 1)
        let names = ["ok", "unreachable", "fatal", "nonfatal", "hot", "throttled", "slow", "silent", "never", "errors"]
        let refs = c.register(names.map { placement($0, tierMs: 100, gpus: 2) })
        var batch: [Sample] = []
        let now = t0 + 30
        for (i, ref) in refs.enumerated() where names[i] != "never" {
            let t = names[i] == "silent" ? now - 10 : now - 0.5
            batch.append(Sample(node: ref, time: t, metric: .up, value: names[i] == "unreachable" ? 0 : 1))
            batch.append(Sample(node: ref, time: t, metric: .gpuTempC, value: names[i] == "hot" ? 91 : 60, gpu: 1))
            batch.append(Sample(node: ref, time: t, metric: .gpuUtil, value: 50, gpu: 0))
            for k in 0..<50 {
                batch.append(Sample(node: ref, time: t, metric: .latencyMs, value: names[i] == "slow" ? 150 + Double(k) : 20))
            }
        }
        batch.append(Sample(node: refs[2], time: now - 5, metric: .xid, value: 79, gpu: 1))
        batch.append(Sample(node: refs[3], time: now - 5, metric: .xid, value: 63, gpu: 0))
        batch.append(Sample(node: refs[5], time: now - 1, metric: .throttleReasons, value: 0x40, gpu: 0))
        batch.append(Sample(node: refs[9], time: now - 1, metric: .errors, value: 20))
        c.ingest(batch)
        let snap = c.snapshot(at: now)
        let byID = Dictionary(uniqueKeysWithValues: snap.nodes.map { ($0.id, $0) })
        #expect(byID["ok"]?.health == .healthy)
        #expect(byID["unreachable"]?.health == .down)
        #expect(byID["fatal"]?.health == .down)
        #expect(byID["fatal"]?.reason.contains("Xid 79") == true)
        #expect(byID["nonfatal"]?.health == .degraded)
        #expect(byID["hot"]?.health == .degraded)
        #expect(byID["hot"]?.reason.contains("thermal") == true)
        #expect(byID["throttled"]?.health == .degraded)
        #expect(byID["slow"]?.health == .degraded)
        #expect(byID["slow"]?.reason.contains("p99") == true)
        #expect(byID["silent"]?.health == .stale)
        #expect(byID["silent"]?.reason == "no data for 10s")
        #expect(byID["never"]?.health == .stale)
        #expect(byID["errors"]?.health == .degraded)
        #expect(snap.fleet.health == HealthCounts(healthy: 1, degraded: 5, down: 2, stale: 2))
        #expect(snap.fleet.health.worst == .down)
        // A fatal Xid leaves the window like any other event.
        let later = c.snapshot(at: now + 120)
        #expect(later.nodes.first { $0.id == "fatal" }?.reason.contains("Xid") == false)
    }

    @Test("a batch spanning regions is split per region; bad refs and values are counted, not applied")
    func mixedBatches() {
        let c = collector()
        let a = c.register(placement("a", region: "r1"))
        let b = c.register(placement("b", region: "r2"))
        c.ingest([
            Sample(node: a, time: t0, metric: .latencyMs, value: 5),
            Sample(node: b, time: t0, metric: .latencyMs, value: 7),
            Sample(node: NodeRef(region: 9, slot: 0), time: t0, metric: .latencyMs, value: 1),
            Sample(node: NodeRef(region: 0, slot: 99), time: t0, metric: .latencyMs, value: 1),
            Sample(node: a, time: t0, metric: .up, value: 3),
            Sample(node: a, time: t0, metric: .gpuUtil, value: .nan, gpu: 0),
        ])
        let snap = c.snapshot(at: t0 + 1)
        #expect(snap.ingest.samples == 2)
        #expect(snap.ingest.invalid == 4)
        #expect(snap.regions.map(\.latency.count) == [1, 1])
    }

    @Test("registration is idempotent per node id")
    func idempotentRegistration() {
        let c = collector()
        let first = c.register(placement("n1"))
        let again = c.register([placement("n1"), placement("n2"), placement("n2")])
        #expect(again[0] == first)
        #expect(again[1] == again[2])
        #expect(c.snapshot(at: t0).nodes.count == 2)
    }

    @Test("batches from many threads at once all land")
    func concurrentIngest() {
        let c = collector()
        let refs = c.register((0..<40).map { placement("n\($0)", site: "s\($0 % 8)", region: "r\($0 % 4)") })
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            for round in 0..<50 {
                let batch = (0..<200).map { k in
                    Sample(node: refs[(worker * 7 + round + k) % refs.count], time: t0 + 1, metric: .latencyMs, value: Double(k + 1))
                }
                c.ingest(batch)
            }
        }
        let snap = c.snapshot(at: t0 + 2)
        #expect(snap.fleet.latency.count == 8 * 50 * 200)
        #expect(snap.ingest.samples == 8 * 50 * 200)
    }
}
