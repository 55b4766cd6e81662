import EdgeCore
import EdgeSources
import Foundation
import Testing

@Suite("Scrape mapping (dcgm-exporter, vLLM, Triton)")
struct ScrapeMapperTests {
    func fixture(_ path: String) throws -> String {
        let url = Bundle.module.url(forResource: "Fixtures/prometheus-text/\(path)", withExtension: nil)!
        return try String(contentsOf: url, encoding: .utf8)
    }

    func parse(_ text: String) -> Exposition { ExpositionParser(format: .prometheusText).parse(text) }

    @Test("dcgm-exporter 2.x with MIG: whole-GPU figures by Hostname, memory total from used + free")
    func dcgmMIG() throws {
        var m = ScrapeMapper(defaultNode: "target")
        let out = m.map(parse(try fixture("dcgm-exporter/dcgm-exporter-2.x_a100_mig_nvidia-docs.prom")))
        #expect(Set(out.map(\.node)) == ["ub20-a100-k8s"])
        func value(_ metric: Metric) -> [Double] { out.filter { $0.metric == metric && $0.gpu == 0 }.map(\.value) }
        #expect(value(.gpuTempC) == [61])
        #expect(value(.gpuPowerW) == [409.692])
        #expect(value(.gpuMemUsedMiB) == [4845])
        #expect(value(.gpuMemTotalMiB) == [4845 + 35690])
        #expect(value(.xid) == [0], "MIG instance rows are not counted twice")
    }

    @Test("dcgm-exporter 1.x names (dcgm_*) map too; nodes without a host label go to the target")
    func dcgmV1() throws {
        var m = ScrapeMapper(defaultNode: "gpu-box:9400")
        let out = m.map(parse(try fixture("dcgm-exporter/dcgm-exporter-1.x_pod-gpu-metrics_2gpu_readme.prom")))
        #expect(!out.isEmpty)
        #expect(Set(out.map(\.node)) == ["gpu-box:9400"])
        #expect(Set(out.filter { $0.metric == .gpuUtil }.map(\.gpu)) == [0, 1])
    }

    @Test("placement rules: node, site and region from labels")
    func labelPlacement() {
        var m = ScrapeMapper(defaultNode: "target", nodeLabels: ["instance_host"])
        m.siteLabel = "pop"
        m.regionLabel = "zone"
        let out = m.map(parse("DCGM_FI_DEV_GPU_UTIL{gpu=\"0\",instance_host=\"ams1-n02\",pop=\"ams1\",zone=\"WEU\"} 50\n"))
        #expect(out == [MappedSample(node: "ams1-n02", site: "ams1", region: "WEU", metric: .gpuUtil, value: 50)])
    }

    @Test("node_exporter: host load and memory in use")
    func nodeExporter() throws {
        var m = ScrapeMapper(defaultNode: "host-a")
        let text = try fixture("node_exporter/node_exporter_1.5.0.prom")
        let out = m.map(parse(text))
        let values = Dictionary(uniqueKeysWithValues: out.map { ($0.metric, $0.value) })
        let r = parse(text).families
        func v(_ name: String) -> Double { r.first { $0.name == name }!.samples[0].value }
        #expect(values[.load1] == v("node_load1"))
        let used = (v("node_memory_MemTotal_bytes") - v("node_memory_MemAvailable_bytes")) / v("node_memory_MemTotal_bytes") * 100
        #expect(values[.memUsedPct] == used)
        #expect(Set(out.map(\.node)) == ["host-a"])
    }

    @Test("DCGM blank sentinels and NaN are not data")
    func sentinels() {
        var m = ScrapeMapper(defaultNode: "n")
        let out = m.map(parse("""
        DCGM_FI_DEV_GPU_UTIL{gpu="0"} 9223372036854775794
        DCGM_FI_DEV_GPU_TEMP{gpu="0"} NaN
        DCGM_FI_DEV_POWER_USAGE{gpu="0"} 250
        """))
        #expect(out.map(\.metric) == [.gpuPowerW])
    }

    @Test("vLLM histograms: the increase between scrapes becomes bucket-bounded requests")
    func vllmDeltas() throws {
        let base = try fixture("vllm/vllm_v0_opt-125m_datadog.prom")
        var m = ScrapeMapper(defaultNode: "vllm-n01")
        #expect(m.map(parse(base)).allSatisfy { $0.metric != .latencyBucketMs }, "first scrape: baseline only")
        // The next scrape: 3 more requests under 1 s, 2 more between 2.5 and 5 s.
        let next = base
            .replacingOccurrences(of: #"vllm:e2e_request_latency_seconds_bucket{le="1.0",model_name="facebook/opt-125m"} 1.0"#,
                                  with: #"vllm:e2e_request_latency_seconds_bucket{le="1.0",model_name="facebook/opt-125m"} 4.0"#)
            .replacingOccurrences(of: #"vllm:e2e_request_latency_seconds_bucket{le="2.5",model_name="facebook/opt-125m"} 1.0"#,
                                  with: #"vllm:e2e_request_latency_seconds_bucket{le="2.5",model_name="facebook/opt-125m"} 4.0"#)
        let bumped = bumpBuckets(next, from: 5.0, by: 5)
        let out = m.map(parse(bumped)).filter { $0.metric == .latencyBucketMs }
        #expect(out.reduce(0) { $0 + Int($1.weight) } == 5)
        #expect(out.contains { $0.value == 1000 && $0.weight == 3 })
        #expect(out.contains { $0.value == 5000 && $0.weight == 2 })
        #expect(Set(out.map(\.node)) == ["vllm-n01"])
        let queue = m.map(parse("vllm:num_requests_running{model_name=\"a\"} 3\nvllm:num_requests_running{model_name=\"b\"} 2\nvllm_num_requests_waiting{model_name=\"a\"} 7\n"))
        #expect(queue.contains(MappedSample(node: "vllm-n01", metric: .requestsRunning, value: 5)))
        #expect(queue.contains(MappedSample(node: "vllm-n01", metric: .requestsWaiting, value: 7)))
    }

    @Test("class_label: a vLLM histogram's model_name names its class through the config's aliases")
    func classLabel() throws {
        let base = try fixture("vllm/vllm_v0_opt-125m_datadog.prom")
        var m = ScrapeMapper(defaultNode: "vllm-n01")
        m.classLabel = "model_name"
        m.classes.aliases["facebook/opt-125m"] = .codeCompletion
        _ = m.map(parse(base))
        let out = m.map(parse(bumpBuckets(base, from: 5.0, by: 4))).filter { $0.metric == .latencyBucketMs }
        #expect(out.reduce(0) { $0 + Int($1.weight) } == 4)
        #expect(out.allSatisfy { $0.gpu == WorkloadClass.codeCompletion.rawValue }, "the byte a latency sample's class rides in")
    }

    /// Adds `extra` to every bucket from `le` upwards (cumulative counts).
    func bumpBuckets(_ text: String, from le: Double, by extra: Double) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            guard line.hasPrefix("vllm:e2e_request_latency_seconds_bucket"), let r = line.range(of: #"le=""#),
                  let end = line[r.upperBound...].firstIndex(of: "\"") else { return String(line) }
            let leText = String(line[r.upperBound..<end])
            let bound = leText == "+Inf" ? Double.infinity : Double(leText) ?? 0
            guard bound >= le, let space = line.lastIndex(of: " "), let v = Double(line[line.index(after: space)...]) else { return String(line) }
            return String(line[..<space]) + " " + String(v + extra)
        }.joined(separator: "\n")
    }

    @Test("Triton counters give the interval's mean latency, bucket-bounded")
    func triton() {
        var m = ScrapeMapper(defaultNode: "triton-n01")
        _ = m.map(parse("nv_inference_request_duration_us{model=\"m\",version=\"1\"} 1000000\nnv_inference_count{model=\"m\",version=\"1\"} 100\n"))
        let out = m.map(parse("nv_inference_request_duration_us{model=\"m\",version=\"1\"} 1600000\nnv_inference_count{model=\"m\",version=\"1\"} 120\n"))
        #expect(out == [MappedSample(node: "triton-n01", metric: .latencyBucketMs, value: 30, weight: 20)])
    }

    @Test("scrape target arguments: placement, options and clear errors")
    func targets() throws {
        let t = try ScrapeTarget(argument: "http://127.0.0.1:9400/metrics,region=WEU,site=fra1,interval=5,timeout=2")
        #expect(t.region == "WEU" && t.site == "fra1" && t.node == "127.0.0.1:9400" && t.interval == 5 && t.timeout == 2)
        #expect(throws: ScrapeTarget.ParseError.self) { try ScrapeTarget(argument: "ftp://x/metrics") }
        #expect(throws: ScrapeTarget.ParseError.self) { try ScrapeTarget(argument: "http://x/m,colour=blue") }
        #expect(throws: ScrapeTarget.ParseError.self) { try ScrapeTarget(argument: "http://x/m,interval=-1") }
    }
}
