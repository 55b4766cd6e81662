import EdgeCollector
import EdgeCore
import EdgeTestSupport
import Testing

/// One request, one count: a node's latency is its most exact source's, never a sum of two
/// sources that saw the same requests; GPU gauges come from one named source.
@Suite("Provenance: one request, one count")
struct ProvenanceTests {
    let t0 = 1_764_230_400.0

    /// The same 453 requests, as per-request StatsD timings and as the vLLM histogram buckets
    /// a scrape turns them into (each request at its bucket's upper bound).
    func sameRequestsTwice(_ c: Collector, statsdService: String = "", scrapeService: String = "") -> (NodeRef, [Double]) {
        let statsd = c.registerSource(SourceInfo(name: "statsd 127.0.0.1:8125", kind: .statsd, service: statsdService))
        let scrape = c.registerSource(SourceInfo(name: "http://10.0.0.7:8000/metrics", kind: .scrape, service: scrapeService))
        let ref = c.register(placement("n1"))
        var rng = SeededGenerator(seed: 5)
        var exact: [Double] = []
        var batch: [Sample] = []
        let bounds = [300.0, 500, 800, 1000, 1500, 2000, 2500, 5000]
        for k in 0..<453 {
            let v = 200 + 900 * Double.random(in: 0...1, using: &rng) * Double.random(in: 0...1, using: &rng)
            exact.append(v)
            let t = t0 + Double(k) * 0.02
            batch.append(Sample(node: ref, time: t, metric: .latencyMs, value: v, source: statsd))
            batch.append(Sample(node: ref, time: t, metric: .latencyBucketMs, value: bounds.first { v <= $0 }!, source: scrape))
        }
        c.ingest(batch)
        return (ref, exact.sorted())
    }

    @Test("the same requests from StatsD and a scraped histogram count once, at StatsD's exact quantiles")
    func mostExactWins() throws {
        let c = Collector()
        let (_, exact) = sameRequestsTwice(c)
        let snap = c.snapshot(at: t0 + 10)
        let node = try #require(snap.nodes.first)
        #expect(node.latency.count == 453)
        #expect(relativeError(node.latency.p50, exactQuantile(exact, 0.5)) <= 0.01)
        #expect(relativeError(node.latency.p99, exactQuantile(exact, 0.99)) <= 0.01)
        #expect(node.latency.bucketBounded == false)
        #expect(node.latencySource == "statsd 127.0.0.1:8125")
        #expect(node.latencySources.map(\.used) == [true, false])
        let scraped = try #require(node.latencySources.last)
        #expect(scraped.latency.count == 453 && scraped.latency.bucketBounded, "the scrape is shown, not added")
        for l in [snap.sites[0].latency, snap.regions[0].latency, snap.fleet.latency] {
            #expect(l.count == 453, "roll-ups count each request once")
            #expect(!l.bucketBounded)
        }
        #expect(node.requestsTotal == 453 && node.tierCounts.reduce(0, +) == 453)
    }

    @Test("a node known only through a scraped histogram is bucket-bounded at every level")
    func onlyBuckets() throws {
        let c = Collector()
        let scrape = c.registerSource(SourceInfo(name: "scrape", kind: .scrape))
        let ref = c.register(placement("n1"))
        c.ingest((0..<50).map { Sample(node: ref, time: t0 + Double($0) * 0.1, metric: .latencyBucketMs, value: 500, source: scrape) })
        let snap = c.snapshot(at: t0 + 6)
        #expect(snap.nodes[0].latency.bucketBounded && snap.nodes[0].latency.count == 50)
        #expect(snap.nodes[0].latencySources.isEmpty, "one source: nothing beside it")
        #expect(snap.fleet.latency.bucketBounded)
    }

    @Test("sources declared as different services are summed; the same service never is")
    func servicesApart() throws {
        let c = Collector()
        _ = sameRequestsTwice(c, statsdService: "app", scrapeService: "vllm")
        let node = try #require(c.snapshot(at: t0 + 10).nodes.first)
        #expect(node.latency.count == 906, "two services' requests are two streams")
        #expect(node.latencySources.allSatisfy { $0.used })
        #expect(node.latency.bucketBounded, "part of it is only known by buckets")
        #expect(node.latencySource == "statsd 127.0.0.1:8125 + http://10.0.0.7:8000/metrics")
    }

    @Test("when the exact source goes quiet past the window, the next one counts")
    func fallback() throws {
        let c = Collector(config: CollectorConfig(windowSeconds: 60))
        _ = sameRequestsTwice(c)
        let scrape = SourceID(2)
        let ref = try #require(c.ref(forNode: "n1"))
        c.ingest((0..<30).map { Sample(node: ref, time: t0 + 100 + Double($0), metric: .latencyBucketMs, value: 800, source: scrape) })
        let node = try #require(c.snapshot(at: t0 + 131).nodes.first)
        #expect(node.latency.count == 30 && node.latency.bucketBounded)
        #expect(node.latencySource == "http://10.0.0.7:8000/metrics")
    }

    @Test("GPU gauges from two sources: the first one's values stand until it goes quiet; never averaged")
    func gpuGaugesOneSource() throws {
        let c = Collector(config: CollectorConfig(intervalSeconds: 1))
        let dcgm = c.registerSource(SourceInfo(name: "dcgm", kind: .scrape))
        let otlp = c.registerSource(SourceInfo(name: "otlp", kind: .otlp))
        let ref = c.register(placement("n1"))
        var batch: [Sample] = []
        for k in 0..<10 {
            let t = t0 + Double(k) * 0.5
            batch.append(Sample(node: ref, time: t, metric: .gpuUtil, value: 80, gpu: 0, source: dcgm))
            batch.append(Sample(node: ref, time: t + 0.1, metric: .gpuUtil, value: 20, gpu: 0, source: otlp))
        }
        c.ingest(batch)
        var gpu = try #require(c.snapshot(at: t0 + 5).nodes.first?.gpus.first)
        #expect(gpu.utilPct == 80 && gpu.source == "dcgm")
        // dcgm stops; after 3 intervals of silence the OTLP figures take over.
        c.ingest([Sample(node: ref, time: t0 + 9, metric: .gpuUtil, value: 30, gpu: 0, source: otlp)])
        gpu = try #require(c.snapshot(at: t0 + 9.5).nodes.first?.gpus.first)
        #expect(gpu.utilPct == 30 && gpu.source == "otlp")
    }
}
