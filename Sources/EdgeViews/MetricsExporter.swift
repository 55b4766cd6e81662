import EdgeCollector
import EdgeCore

/// What `edgetop serve` answers on `/metrics`: per node and per GPU gauges, per node request
/// latency as a classic histogram whose buckets sit on the latency tiers (so the fraction of
/// requests under a tier stays exact after `sum by`), request and error counters, and edgetop's
/// own health. Prometheus text 0.0.4, or OpenMetrics 1.0 when the scraper asks for it.
public struct MetricsExporter {
    public var snapshot: FleetSnapshot
    public var sources: [SourceStats]
    public var version: String
    /// This collector's name (`serve --collector`): on its node health series and its info
    /// series, so a global view knows who judged each region and can tell when one goes silent.
    public var collector: String?

    /// The level request latency, requests and errors are exported at (`serve --metrics-detail`).
    public var detail: MetricsDetail = .node

    public init(snapshot: FleetSnapshot, sources: [SourceStats] = [], version: String, collector: String? = nil,
                detail: MetricsDetail = .node) {
        self.snapshot = snapshot; self.sources = sources; self.version = version; self.collector = collector
        self.detail = detail
    }

    public static let textContentType = "text/plain; version=0.0.4; charset=utf-8"
    public static let openMetricsContentType = "application/openmetrics-text; version=1.0.0; charset=utf-8"

    enum Kind: String { case gauge, counter, histogram }

    struct Family {
        var name: String
        var kind: Kind
        var help: String
        var unit: String?
        var lines: [String] = []
    }

    static func escape(_ s: String) -> String { ExpositionText.escapeLabelValue(s) }

    static func number(_ v: Double) -> String {
        if v.isNaN { return "NaN" }
        if v.isInfinite { return v > 0 ? "+Inf" : "-Inf" }
        if v == v.rounded() && abs(v) < 1e15 { return String(Int64(v)) }
        return String(v)
    }

    /// A node's state and cause, and the GPU (and Xid) behind it, as labels: everything a
    /// global view needs of a node that is not HEALTHY, in one sparse series.
    static func causeLabels(_ n: NodeStatus) -> String {
        var l = ",state=\"\(n.health.label.lowercased())\",cause=\"\(escape(n.cause))\""
        let gpu: GPUStatus? = switch n.cause {
        case "xid_fatal": n.gpus.first { $0.xid != 0 && Xid.isFatal($0.xid) }
        case "xid": n.gpus.first { $0.xid != 0 }
        case "gpu_throttling": n.gpus.first { $0.throttled }
        default: nil
        }
        if let gpu {
            l += ",gpu=\"\(gpu.index)\""
            if gpu.xid != 0 && n.cause != "gpu_throttling" { l += ",xid=\"\(gpu.xid)\"" }
        }
        return l
    }

    /// The exposition; `openMetrics` switches the format (counter naming, `# EOF`).
    public func render(openMetrics: Bool) -> String {
        var fams: [Family] = [
            Family(name: "edgetop_build_info", kind: .gauge, help: "edgetop build information."),
            Family(name: "edgetop_ingest_samples", kind: .counter, help: "Samples applied by the collector."),
            Family(name: "edgetop_ingest_invalid", kind: .counter, help: "Samples, lines and requests rejected."),
            Family(name: "edgetop_source_up", kind: .gauge, help: "1 when a live source's last read succeeded."),
            Family(name: "edgetop_source_failures", kind: .counter, help: "Failed reads (scrapes) per source."),
            Family(name: "edgetop_source_invalid", kind: .counter, help: "Invalid input per source."),
            Family(name: "edgetop_node_health", kind: .gauge, help: "1 for the node's health state, 0 for the others."),
            Family(name: "edgetop_node_data_age_seconds", kind: .gauge, help: "Seconds since the node's last sample.", unit: "seconds"),
            Family(name: "edgetop_node_requests", kind: .counter, help: "Requests with a latency, since edgetop started."),
            Family(name: "edgetop_node_request_errors", kind: .counter, help: "Failed requests, since edgetop started."),
            Family(name: "edgetop_request_latency_seconds", kind: .histogram, help: "Request latency; buckets on the latency tiers.", unit: "seconds"),
            Family(name: "edgetop_gpu_utilization_ratio", kind: .gauge, help: "GPU utilisation, 0 to 1.", unit: "ratio"),
            Family(name: "edgetop_gpu_temperature_celsius", kind: .gauge, help: "GPU temperature.", unit: "celsius"),
            Family(name: "edgetop_gpu_memory_used_bytes", kind: .gauge, help: "GPU framebuffer memory used.", unit: "bytes"),
            Family(name: "edgetop_gpu_memory_total_bytes", kind: .gauge, help: "GPU framebuffer memory.", unit: "bytes"),
            Family(name: "edgetop_gpu_power_watts", kind: .gauge, help: "GPU power draw.", unit: "watts"),
            Family(name: "edgetop_gpu_last_xid", kind: .gauge, help: "Last Xid error within the window (0: none)."),
            Family(name: "edgetop_gpu_throttled", kind: .gauge, help: "1 when the GPU is thermally throttled."),
            Family(name: "edgetop_collector_info", kind: .gauge, help: "1 for each region this collector judges."),
            Family(name: "edgetop_collector_snapshot_timestamp_seconds", kind: .gauge,
                   help: "Time of the snapshot this page was written from.", unit: "seconds"),
            Family(name: "edgetop_node_cause", kind: .gauge,
                   help: "1 for a node that is not HEALTHY: its state, the kind of its reason, the GPU and Xid behind it (present only while it is not)."),
        ]
        func add(_ i: Int, _ suffix: String = "", _ labels: String, _ v: Double) {
            let name = fams[i].name + suffix
            fams[i].lines.append(labels.isEmpty ? "\(name) \(Self.number(v))" : "\(name){\(labels)} \(Self.number(v))")
        }
        add(0, "", "version=\"\(Self.escape(version))\"", 1)
        add(1, "_total", "", Double(snapshot.ingest.samples))
        add(2, "_total", "", Double(snapshot.ingest.invalid))
        for s in sources {
            let l = "source=\"\(Self.escape(s.name))\""
            add(3, "", l, s.up ? 1 : 0)
            add(4, "_total", l, Double(s.failures))
            add(5, "_total", l, Double(s.invalid))
        }
        let judge = collector.map { ",edgetop_collector=\"\(Self.escape($0))\"" } ?? ""
        if let collector {
            let c = "edgetop_collector=\"\(Self.escape(collector))\""
            for r in snapshot.regions { add(18, "", c + ",region=\"\(Self.escape(r.id))\"", 1) }
            add(19, "", c, snapshot.time)
        }
        // Request figures by node, or summed per site or region (`detail`), in snapshot order.
        var requestGroups: [(labels: String, figures: RequestFigures)] = []
        var groupIndex: [String: Int] = [:]
        func requests(_ labels: String, _ f: RequestFigures) {
            var cumulative: UInt64 = 0
            add(8, "_total", labels, Double(f.requests))
            add(9, "_total", labels, Double(f.errors))
            for (b, bound) in TierBuckets.upperBoundsMs.enumerated() {
                cumulative &+= f.buckets[b]
                let le = bound.isInfinite ? "+Inf" : Self.number(bound / 1000)
                add(10, "_bucket", labels + ",le=\"\(le)\"", Double(cumulative))
            }
            add(10, "_count", labels, Double(f.requests))
            add(10, "_sum", labels, f.sumMs / 1000)
        }
        for n in snapshot.nodes {
            let l = "region=\"\(Self.escape(n.region))\",site=\"\(Self.escape(n.site))\",node=\"\(Self.escape(n.id))\""
            for state in HealthState.allCases {
                add(6, "", l + judge + ",state=\"\(state.label.lowercased())\"", n.health == state ? 1 : 0)
            }
            if n.ageS.isFinite { add(7, "", l, n.ageS) }
            if !n.cause.isEmpty { add(20, "", l + judge + Self.causeLabels(n), 1) }
            switch detail {
            case .node: requests(l, RequestFigures(n))
            case .site, .region:
                let key = detail == .site ? "region=\"\(Self.escape(n.region))\",site=\"\(Self.escape(n.site))\"" : "region=\"\(Self.escape(n.region))\""
                if let i = groupIndex[key] { requestGroups[i].figures.add(n) } else {
                    groupIndex[key] = requestGroups.count
                    requestGroups.append((key, RequestFigures(n)))
                }
            }
            for g in n.gpus {
                let gl = l + ",gpu=\"\(g.index)\""
                if g.utilPct.isFinite { add(11, "", gl, g.utilPct / 100) }
                if g.tempC.isFinite { add(12, "", gl, g.tempC) }
                if g.memUsedMiB.isFinite { add(13, "", gl, g.memUsedMiB * 1_048_576) }
                if g.memTotalMiB.isFinite { add(14, "", gl, g.memTotalMiB * 1_048_576) }
                if g.powerW.isFinite { add(15, "", gl, g.powerW) }
                if g.ageS.isFinite {
                    add(16, "", gl, Double(g.xid))
                    add(17, "", gl, g.throttled ? 1 : 0)
                }
            }
        }
        for g in requestGroups { requests(g.labels, g.figures) }
        var out = ""
        for f in fams where !f.lines.isEmpty {
            // Text 0.0.4 names a counter family after its samples; OpenMetrics after the base.
            let typeName = f.kind == .counter && !openMetrics ? f.name + "_total" : f.name
            out += "# HELP \(typeName) \(f.help)\n# TYPE \(typeName) \(f.kind.rawValue)\n"
            if openMetrics, let unit = f.unit, f.name.hasSuffix("_" + unit) { out += "# UNIT \(f.name) \(unit)\n" }
            for l in f.lines { out += l + "\n" }
        }
        if openMetrics { out += "# EOF\n" }
        return out
    }
}

/// Where `serve` exports request latency, requests and errors: per node (22 series a node), or
/// summed per site or per region for fleets whose Prometheus must hold less (5 series a node
/// for health and data age, 17 per site or region). GPU gauges stay per GPU.
public enum MetricsDetail: String, Sendable, CaseIterable {
    case node, site, region
}

/// A node's or a group's request counters: per tier bucket (not cumulative), totals, sum.
struct RequestFigures {
    var buckets = [UInt64](repeating: 0, count: TierBuckets.upperBoundsMs.count)
    var requests: UInt64 = 0
    var errors: UInt64 = 0
    var sumMs = 0.0

    init(_ n: NodeStatus) { add(n) }

    mutating func add(_ n: NodeStatus) {
        for b in buckets.indices where b < n.tierCounts.count { buckets[b] &+= n.tierCounts[b] }
        requests &+= n.requestsTotal
        errors &+= n.errorsTotal
        sumMs += n.latencySumMs
    }
}
