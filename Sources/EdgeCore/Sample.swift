/// Where a node lives inside the collector: its region shard and its slot there.
/// Sources resolve names to a `NodeRef` once, then send compact samples.
public struct NodeRef: Hashable, Sendable {
    public var region: Int32
    public var slot: Int32
    public init(region: Int32, slot: Int32) { self.region = region; self.slot = slot }
}

/// What a sample measures.
public enum Metric: UInt8, Sendable, CaseIterable {
    /// End-to-end request latency, milliseconds.
    case latencyMs
    /// Requests known only by the classic histogram bucket they fell in: `value` is the
    /// bucket's upper bound in ms, `weight` the count. Quantiles become bucket-bounded.
    case latencyBucketMs
    /// GPU utilisation, percent 0–100 (needs `gpu`).
    case gpuUtil
    /// GPU temperature, °C (needs `gpu`).
    case gpuTempC
    /// GPU framebuffer memory used, MiB (needs `gpu`).
    case gpuMemUsedMiB
    /// GPU framebuffer memory total, MiB (needs `gpu`).
    case gpuMemTotalMiB
    /// GPU power draw, watts (needs `gpu`).
    case gpuPowerW
    /// Last Xid error code (needs `gpu`); 0 clears.
    case xid
    /// DCGM clock throttle reasons bit mask (needs `gpu`).
    case throttleReasons
    /// Target reachable: 1 or 0.
    case up
    /// Failed requests (each sample counts `value` errors).
    case errors
    /// Host 1-minute load average (node_exporter `node_load1`).
    case load1
    /// Host memory in use, percent (node_exporter MemTotal − MemAvailable).
    case memUsedPct
    /// Requests being served / queued by the inference server (vLLM `num_requests_*`).
    case requestsRunning
    case requestsWaiting
    /// Health as another collector already judged it (`HealthState` raw value), read back
    /// from Prometheus: it stands instead of this collector's own rules.
    case reportedHealth

    /// The name used in replay files and JSON.
    public var name: String {
        switch self {
        case .latencyMs: "latency_ms"
        case .latencyBucketMs: "latency_bucket_ms"
        case .gpuUtil: "gpu_util"
        case .gpuTempC: "gpu_temp_c"
        case .gpuMemUsedMiB: "gpu_mem_used_mib"
        case .gpuMemTotalMiB: "gpu_mem_total_mib"
        case .gpuPowerW: "gpu_power_w"
        case .xid: "xid"
        case .throttleReasons: "throttle_reasons"
        case .up: "up"
        case .errors: "errors"
        case .load1: "load1"
        case .memUsedPct: "mem_used_pct"
        case .reportedHealth: "reported_health"
        case .requestsRunning: "requests_running"
        case .requestsWaiting: "requests_waiting"
        }
    }

    public init?(name: String) {
        guard let m = Metric.allCases.first(where: { $0.name == name }) else { return nil }
        self = m
    }

    /// Whether the metric belongs to one GPU of the node.
    /// Request metrics (latency, exact or bucket-bounded, and errors): their samples carry a
    /// workload class where per-GPU ones carry a GPU index.
    public var carriesClass: Bool { self == .latencyMs || self == .latencyBucketMs || self == .errors }

    public var isPerGPU: Bool {
        switch self {
        case .gpuUtil, .gpuTempC, .gpuMemUsedMiB, .gpuMemTotalMiB, .gpuPowerW, .xid, .throttleReasons: true
        case .latencyMs, .latencyBucketMs, .up, .errors, .load1, .memUsedPct, .reportedHealth,
             .requestsRunning, .requestsWaiting: false
        }
    }
}

/// Which registered source a sample came from (`Collector.registerSource`); 0 is the
/// collector's own default source (the simulator, a replay, the query backend).
public typealias SourceID = UInt16

/// One measurement, 32 bytes, no references: batches of these are plain arrays.
public struct Sample: Sendable {
    public var node: NodeRef
    /// Event time, seconds since the Unix epoch.
    public var time: Double
    public var value: Double
    /// How many observations this sample stands for (a StatsD timing sent at `@0.1` counts
    /// 10; a classic-histogram bucket delta counts its requests). 1 for most samples.
    public var weight: UInt32
    public var metric: Metric
    /// GPU index within the node, for per-GPU metrics. Latency and error samples have no GPU:
    /// for them this byte holds the workload class (`workload`), so a sample stays 32 bytes.
    public var gpu: UInt8
    /// Provenance: the source that measured it. Latency from different sources of one node is
    /// kept apart and never summed (one request, one count); see `Collector.registerSource`.
    public var source: SourceID

    public init(node: NodeRef, time: Double, metric: Metric, value: Double, gpu: UInt8 = 0, weight: UInt32 = 1,
                source: SourceID = 0) {
        self.node = node; self.time = time; self.metric = metric; self.value = value; self.gpu = gpu
        self.weight = weight; self.source = source
    }

    /// A latency or error sample of workload class `workload`.
    public init(node: NodeRef, time: Double, metric: Metric, value: Double, workload: WorkloadClass, weight: UInt32 = 1,
                source: SourceID = 0) {
        self.init(node: node, time: time, metric: metric, value: value, gpu: workload.rawValue, weight: weight, source: source)
    }

    /// The workload class of a latency or error sample (`unclassified` for other metrics).
    @inline(__always)
    public var workload: WorkloadClass {
        get { metric.carriesClass ? WorkloadClass(rawValue: gpu) ?? .unclassified : .unclassified }
        set { if metric.carriesClass { gpu = newValue.rawValue } }
    }
}
