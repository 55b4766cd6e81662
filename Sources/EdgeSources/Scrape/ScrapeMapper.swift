import EdgeCore

/// A fleet sample from a scrape, before its node is resolved to a `NodeRef`.
public struct MappedSample: Sendable, Equatable {
    public var node: String
    /// Site and region from labels, when the target is told to read them.
    public var site: String? = nil
    public var region: String? = nil
    public var metric: Metric
    public var value: Double
    public var gpu: UInt8
    public var weight: UInt32

    public init(node: String, site: String? = nil, region: String? = nil, metric: Metric, value: Double,
                gpu: UInt8 = 0, weight: UInt32 = 1) {
        self.node = node; self.site = site; self.region = region
        self.metric = metric; self.value = value; self.gpu = gpu; self.weight = weight
    }
}

/// Turns successive scrapes of one target into fleet samples: DCGM GPU gauges (both the
/// `DCGM_FI_DEV_*` names and dcgm-exporter 1.x's `dcgm_*`), and request latency from vLLM
/// (`vllm:` and `vllm_`), TGI and Triton. Classic histograms only say which bucket a request
/// fell in, so their latency is fed as bucket-bounded (`≈`), from the increase between two
/// scrapes; Triton's summed counters give only a mean per interval, also marked `≈`.
public struct ScrapeMapper {
    /// Node for samples that carry no host label (the target's own node).
    public var defaultNode: String
    /// Take the node from this label when a sample has it (dcgm-exporter's `Hostname`).
    public var nodeLabels: [String]
    public var siteLabel: String?
    /// The label naming a latency series' workload class (`class_label:`), and the names it may use.
    public var classLabel: String?
    public var classes: ClassCatalog = .standard
    public var regionLabel: String?

    private var previous: [String: Double] = [:]
    /// Most histogram/counter series remembered per target.
    public static let maxSeries = 200_000

    public init(defaultNode: String, nodeLabels: [String] = ["Hostname", "hostname"]) {
        self.defaultNode = defaultNode
        self.nodeLabels = nodeLabels
    }

    /// DCGM reports these for "blank / not supported".
    static func isDCGMBlank(_ v: Double) -> Bool { v == 0x1p63 }  // 9223372036854775792…808 all round to 2^63 as Double

    static let gauges: [String: Metric] = [
        "DCGM_FI_DEV_GPU_UTIL": .gpuUtil, "dcgm_gpu_utilization": .gpuUtil,
        "DCGM_FI_DEV_GPU_TEMP": .gpuTempC, "dcgm_gpu_temp": .gpuTempC,
        "DCGM_FI_DEV_FB_USED": .gpuMemUsedMiB, "dcgm_fb_used": .gpuMemUsedMiB,
        "DCGM_FI_DEV_FB_TOTAL": .gpuMemTotalMiB,
        "DCGM_FI_DEV_POWER_USAGE": .gpuPowerW, "dcgm_power_usage": .gpuPowerW,
        "DCGM_FI_DEV_XID_ERRORS": .xid, "dcgm_xid_errors": .xid,
        "DCGM_FI_DEV_CLOCK_THROTTLE_REASONS": .throttleReasons, "DCGM_FI_DEV_CLOCKS_EVENT_REASONS": .throttleReasons,
    ]
    static let freeMemory: Set<String> = ["DCGM_FI_DEV_FB_FREE", "dcgm_fb_free"]

    /// Bucket series of latency histograms (colons written as underscores) and the factor from
    /// their unit to milliseconds. Matched on sample names, not family names: prometheus_client
    /// with `escaping=underscores` declares `# TYPE vllm:e2e…` but writes `vllm_e2e…_bucket`.
    static let latencyBuckets: [String: Double] = [
        "vllm_e2e_request_latency_seconds_bucket": 1000,
        "tgi_request_duration_bucket": 1000, "nv_inference_first_response_histogram_ms_bucket": 1,
    ]

    /// `name` with `:` written as `_` (cheap when there is none, as for most names).
    static func underscored(_ name: String) -> String {
        guard name.utf8.contains(UInt8(ascii: ":")) else { return name }
        return String(decoding: name.utf8.map { $0 == UInt8(ascii: ":") ? UInt8(ascii: "_") : $0 }, as: UTF8.self)
    }

    func node(of s: MetricSample) -> String {
        for l in nodeLabels { if let v = s.label(l), !v.isEmpty { return v } }
        return defaultNode
    }

    /// Maps one scrape. Histogram deltas need a previous scrape, so the first one yields
    /// gauges only.
    public mutating func map(_ exposition: Exposition) -> [MappedSample] {
        var out: [MappedSample] = []
        var used: [String: Double] = [:], free: [String: Double] = [:]
        var seen: [String: Double] = [:]
        var buckets: [Double: [MetricSample]] = [:]
        var memTotal: [String: Double] = [:], memAvailable: [String: Double] = [:]
        var sawTriton = false
        for family in exposition.families {
            // node_exporter: host load and memory.
            switch family.name {
            case "node_load1":
                for s in family.samples where s.value.isFinite { out.append(MappedSample(node: node(of: s), metric: .load1, value: s.value)) }
                continue
            case "node_memory_MemTotal_bytes":
                for s in family.samples { memTotal[node(of: s)] = s.value }
                continue
            case "node_memory_MemAvailable_bytes":
                for s in family.samples { memAvailable[node(of: s)] = s.value }
                continue
            case "vllm:num_requests_running", "vllm_num_requests_running", "vllm:num_requests_waiting", "vllm_num_requests_waiting":
                // Summed over models per node.
                let metric: Metric = family.name.hasSuffix("running") ? .requestsRunning : .requestsWaiting
                var perNode: [String: Double] = [:]
                for s in family.samples where s.value.isFinite { perNode[node(of: s), default: 0] += s.value }
                for (n, v) in perNode { out.append(MappedSample(node: n, metric: metric, value: v)) }
                continue
            default: break
            }
            var isHistogram = false
            for s in family.samples where s.name.hasSuffix("_bucket") {
                if let factor = Self.latencyBuckets[Self.underscored(s.name)] {
                    buckets[factor, default: []].append(s)
                    isHistogram = true
                }
            }
            if isHistogram { continue }
            if family.name == "nv_inference_request_duration_us" || family.name == "nv_inference_count" {
                sawTriton = true
                for s in family.samples { seen[Self.key(s, node: node(of: s))] = s.value }
                continue
            }
            for s in family.samples {
                let metricName = s.name
                guard Self.gauges[metricName] != nil || Self.freeMemory.contains(metricName) else { continue }
                guard s.value.isFinite, !Self.isDCGMBlank(s.value) else { continue }
                // MIG instances repeat their parent GPU's figures; the whole-GPU series count.
                if s.label("GPU_I_ID") != nil || s.label("GPU_I_PROFILE") != nil { continue }
                guard let g = s.label("gpu").flatMap({ Int($0) }), g >= 0, g < 64 else { continue }
                let n = node(of: s)
                if Self.freeMemory.contains(metricName) { free["\(n)\u{1F}\(g)"] = s.value; continue }
                let metric = Self.gauges[metricName]!
                if metric == .gpuMemUsedMiB { used["\(n)\u{1F}\(g)"] = s.value }
                out.append(MappedSample(node: n, metric: metric, value: s.value, gpu: UInt8(g)))
            }
        }
        // Total framebuffer = used + free when the exporter does not publish the total.
        for (key, u) in used {
            guard let f = free[key] else { continue }
            let parts = key.split(separator: "\u{1F}", maxSplits: 1)
            guard parts.count == 2, let g = UInt8(parts[1]),
                  !out.contains(where: { $0.metric == .gpuMemTotalMiB && $0.node == parts[0] && $0.gpu == g }) else { continue }
            out.append(MappedSample(node: String(parts[0]), metric: .gpuMemTotalMiB, value: u + f, gpu: g))
        }
        for (n, total) in memTotal where total > 0 {
            guard let available = memAvailable[n], available >= 0, available <= total else { continue }
            out.append(MappedSample(node: n, metric: .memUsedPct, value: (total - available) / total * 100))
        }
        for (factor, samples) in buckets { histogram(samples, factor: factor, into: &out, seen: &seen) }
        if sawTriton { tritonMeans(seen, into: &out) }
        // Series memory is capped: a label explosion stops adding series, it does not grow
        // without bound (the series beyond the cap simply yield no deltas).
        for (k, v) in seen where previous[k] != nil || previous.count < Self.maxSeries { previous[k] = v }
        if siteLabel != nil || regionLabel != nil { place(&out, exposition) }
        return out
    }

    /// Site and region per node, from the first sample of that node carrying the labels.
    func place(_ out: inout [MappedSample], _ exposition: Exposition) {
        var sites: [String: String] = [:], regions: [String: String] = [:]
        for f in exposition.families {
            for s in f.samples {
                let n = node(of: s)
                if let l = siteLabel, sites[n] == nil, let v = s.label(l), !v.isEmpty { sites[n] = v }
                if let l = regionLabel, regions[n] == nil, let v = s.label(l), !v.isEmpty { regions[n] = v }
            }
        }
        for i in out.indices {
            out[i].site = sites[out[i].node]
            out[i].region = regions[out[i].node]
        }
    }

    /// A bucket bound: "0.5", "1.0", "+Inf" (without Foundation's string search).
    static func bound(_ text: String) -> Double? {
        switch text {
        case "+Inf", "Inf", "+inf", "inf": .infinity
        default: Double(text)
        }
    }

    static func key(_ s: MetricSample, node: String) -> String {
        node + "\u{1F}" + s.name + "\u{1F}" + s.labels.sorted { $0.name < $1.name }.map { "\($0.name)=\($0.value)" }.joined(separator: ",")
    }

    /// Bucket increases since the previous scrape, as bucket-bounded requests at each bucket's
    /// upper bound (the +Inf bucket at the largest finite bound).
    mutating func histogram(_ samples: [MetricSample], factor: Double, into out: inout [MappedSample], seen: inout [String: Double]) {
        var series: [String: (node: String, workload: UInt8, buckets: [(Double, Double, String)])] = [:]
        for s in samples {
            guard let leText = s.label("le"), let le = Self.bound(leText), s.value.isFinite else { continue }
            let n = node(of: s)
            let workload = classLabel.flatMap { s.label($0) }.map { classes.workload(named: $0).rawValue } ?? 0
            // One key build per bucket: the series (node, name, labels but le) and the bucket.
            // Labels keep the exporter's order, which is stable from one scrape to the next.
            var group = n + "\u{1F}" + s.name
            for l in s.labels where l.name != "le" { group += "\u{1F}" + l.name + "=" + l.value }
            let k = group + "\u{1F}le=" + leText
            seen[k] = s.value
            series[group, default: (n, workload, [])].buckets.append((le, s.value, k))
        }
        for (_, s) in series {
            let buckets = s.buckets.sorted { $0.0 < $1.0 }
            var lowerCumulativeNow = 0.0, lowerCumulativeBefore = 0.0
            var lastFinite = 0.0
            for (le, cumulative, key) in buckets {
                guard let before = previous[key] else { lowerCumulativeNow = cumulative; continue }
                // A counter that went down means the server restarted: its count is all new.
                let reset = cumulative < before
                let inBucketNow = cumulative - lowerCumulativeNow
                let inBucketBefore = reset ? 0 : before - lowerCumulativeBefore
                let delta = inBucketNow - inBucketBefore
                lowerCumulativeNow = cumulative
                lowerCumulativeBefore = reset ? 0 : before
                if le.isFinite { lastFinite = le }
                guard delta >= 1, delta < Double(UInt32.max) else { continue }
                let bound = (le.isFinite ? le : max(lastFinite, 0)) * factor
                out.append(MappedSample(node: s.node, metric: .latencyBucketMs, value: bound, gpu: s.workload,
                                        weight: UInt32(delta.rounded())))
            }
        }
    }

    /// Triton publishes total request time and request count; their increases give the mean
    /// latency of the interval, fed as that many requests at the mean (bucket-bounded).
    func tritonMeans(_ seen: [String: Double], into out: inout [MappedSample]) {
        for (key, duration) in seen where key.contains("\u{1F}nv_inference_request_duration_us\u{1F}") {
            let countKey = key.replacingOccurrences(of: "\u{1F}nv_inference_request_duration_us\u{1F}", with: "\u{1F}nv_inference_count\u{1F}")
            guard let count = seen[countKey], let d0 = previous[key], let c0 = previous[countKey],
                  count > c0, duration >= d0 else { continue }
            let n = String(key.split(separator: "\u{1F}", maxSplits: 1).first ?? "")
            let mean = (duration - d0) / (count - c0) / 1000
            out.append(MappedSample(node: n, metric: .latencyBucketMs, value: mean, weight: UInt32(min(count - c0, Double(UInt32.max - 1)))))
        }
    }
}
