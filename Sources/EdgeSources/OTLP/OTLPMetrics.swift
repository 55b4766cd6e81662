import EdgeCore
import Foundation

/// Decodes OTLP/HTTP JSON metric exports (`ExportMetricsServiceRequest`) into fleet samples.
///
/// Placement comes from resource attributes: `edgetop.region` / `edgetop.site` / `edgetop.node`
/// when present, else `cloud.region`, `cloud.availability_zone` and `host.name`. Request
/// latency histograms (`http.server.request.duration`, `gen_ai.server.request.duration`, or a
/// name with `latency`) feed the node's latency: exponential histograms at each bucket's
/// geometric midpoint (within 1 % when scale ≥ 6, otherwise marked bucket-bounded), explicit
/// ones as bucket-bounded. Cumulative points become deltas against the previous export.
/// GPU gauges (`hw.gpu.utilization`, `gpu.util`, … with `gpu.index`/`gpu`) and error counts
/// are mapped too. Points that cannot be used are counted as rejected, with a reason.
public struct OTLPDecoder {
    public struct Placement: Sendable, Equatable, Hashable {
        public var region: String
        public var site: String
        public var node: String
        /// The resource's `edgetop.class`, for points that do not name their own.
        public var workload: WorkloadClass = .unclassified
        public init(region: String, site: String, node: String, workload: WorkloadClass = .unclassified) {
            self.region = region; self.site = site; self.node = node; self.workload = workload
        }
    }

    public struct Output: Sendable {
        public var samples: [(Placement, MappedSample)] = []
        public var rejected = 0
        public var firstError: String?
    }

    public struct Malformed: Error, CustomStringConvertible {
        public var description: String
        public init(description: String) { self.description = PrintableText.line(description) }
    }

    public var defaultPlacement: Placement
    private var previous: [String: Double] = [:]

    /// Class ids and aliases (`gen_ai.operation.name` values the config maps).
    public var classes: ClassCatalog

    public init(defaultPlacement: Placement, classes: ClassCatalog = .standard) {
        self.defaultPlacement = defaultPlacement
        self.classes = classes
    }

    public mutating func decode(_ body: [UInt8]) throws -> Output {
        guard let root = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
            throw Malformed(description: "body is not a JSON object")
        }
        guard let resources = root["resourceMetrics"] as? [[String: Any]] else {
            if root.isEmpty || root["resourceMetrics"] == nil { return Output() }
            throw Malformed(description: "resourceMetrics is not an array")
        }
        var out = Output()
        for rm in resources {
            let attrs = Self.attributes((rm["resource"] as? [String: Any])?["attributes"])
            let placement = place(attrs)
            for sm in rm["scopeMetrics"] as? [[String: Any]] ?? [] {
                for m in sm["metrics"] as? [[String: Any]] ?? [] {
                    metric(m, placement: placement, into: &out)
                }
            }
        }
        return out
    }

    func place(_ a: [String: String]) -> Placement {
        let node = a["edgetop.node"] ?? a["host.name"] ?? defaultPlacement.node
        return Placement(region: a["edgetop.region"] ?? a["cloud.region"] ?? defaultPlacement.region,
                         site: a["edgetop.site"] ?? a["cloud.availability_zone"] ?? defaultPlacement.site,
                         node: node, workload: (a["edgetop.class"] ?? a["gen_ai.operation.name"]).map { classes.workload(named: $0) } ?? .unclassified)
    }

    /// OTLP attribute lists as strings (numbers and booleans written as text).
    static func attributes(_ any: Any?) -> [String: String] {
        var out: [String: String] = [:]
        for kv in any as? [[String: Any]] ?? [] {
            guard let k = kv["key"] as? String, let v = kv["value"] as? [String: Any] else { continue }
            if let s = v["stringValue"] as? String { out[k] = s }
            else if let i = v["intValue"] { out[k] = "\(i)" }
            else if let d = v["doubleValue"] { out[k] = "\(d)" }
            else if let b = v["boolValue"] as? Bool { out[k] = b ? "true" : "false" }
        }
        return out
    }

    /// 64-bit integers arrive as JSON strings; numbers are accepted too.
    static func uint(_ any: Any?) -> Double? {
        if let s = any as? String { return UInt64(s).map { Double($0) } }
        if let n = any as? NSNumber { return n.doubleValue >= 0 ? n.doubleValue : nil }
        return nil
    }

    static func number(_ p: [String: Any]) -> Double? {
        if let d = p["asDouble"] as? NSNumber { return d.doubleValue }
        if let s = p["asDouble"] as? String { return Double(s) }  // "NaN", "Infinity"
        if let i = p["asInt"] as? String { return Int64(i).map { Double($0) } }
        if let i = p["asInt"] as? NSNumber { return i.doubleValue }
        return nil
    }

    static func toMs(_ unit: String) -> Double? {
        switch unit {
        case "s": 1000
        case "ms": 1
        case "us", "µs": 0.001
        case "ns": 1e-6
        default: nil
        }
    }

    static func isLatency(_ name: String) -> Bool {
        let n = name.lowercased()
        return n == "http.server.request.duration" || n == "gen_ai.server.request.duration" || n.contains("latency")
            || n == "edgetop.latency"
    }

    mutating func metric(_ m: [String: Any], placement: Placement, into out: inout Output) {
        let name = m["name"] as? String ?? ""
        let unit = m["unit"] as? String ?? ""
        func reject(_ reason: String, _ n: Int = 1) {
            out.rejected += n
            if out.firstError == nil { out.firstError = PrintableText.line("\(name): \(reason)") }
        }
        if let h = m["histogram"] as? [String: Any] {
            guard Self.isLatency(name) else { return }
            guard let factor = Self.toMs(unit) else { reject("unit \"\(unit)\" is not a time"); return }
            let cumulative = (h["aggregationTemporality"] as? Int) == 2
            for p in h["dataPoints"] as? [[String: Any]] ?? [] {
                let counts = (p["bucketCounts"] as? [Any] ?? []).map(Self.uint)
                let bounds = (p["explicitBounds"] as? [Any] ?? []).compactMap { ($0 as? NSNumber)?.doubleValue }
                guard !counts.contains(where: { $0 == nil }), counts.count == bounds.count + 1 || counts.isEmpty else {
                    reject("bucketCounts and explicitBounds disagree"); continue
                }
                let attrs = Self.attributes(p["attributes"])
                let key = seriesKey(placement, name, attrs)
                let workload = workload(attrs, resource: placement).rawValue
                for (i, c) in counts.enumerated() {
                    let bound = i < bounds.count ? bounds[i] : (bounds.last ?? 0)
                    let delta = self.delta(key + "#\(i)", c!, cumulative: cumulative)
                    if delta >= 1 {
                        out.samples.append((placement, MappedSample(node: placement.node, metric: .latencyBucketMs,
                                                                    value: max(0, bound) * factor, gpu: workload,
                                                                    weight: UInt32(min(delta, 4e9)))))
                    }
                }
            }
            return
        }
        if let h = m["exponentialHistogram"] as? [String: Any] {
            guard Self.isLatency(name) else { return }
            guard let factor = Self.toMs(unit) else { reject("unit \"\(unit)\" is not a time"); return }
            let cumulative = (h["aggregationTemporality"] as? Int) == 2
            for p in h["dataPoints"] as? [[String: Any]] ?? [] {
                guard let scale = (p["scale"] as? NSNumber)?.intValue, (-10...20).contains(scale) else { reject("bad scale"); continue }
                let base = pow(2, pow(2, -Double(scale)))
                let metric: Metric = scale >= 6 ? .latencyMs : .latencyBucketMs
                let attrs = Self.attributes(p["attributes"])
                let key = seriesKey(placement, name, attrs)
                let workload = workload(attrs, resource: placement).rawValue
                let zero = delta(key + "#z", Self.uint(p["zeroCount"]) ?? 0, cumulative: cumulative)
                if zero >= 1 {
                    out.samples.append((placement, MappedSample(node: placement.node, metric: metric, value: 0, gpu: workload,
                                                                weight: UInt32(min(zero, 4e9)))))
                }
                guard let positive = p["positive"] as? [String: Any] else { continue }
                let offset = (positive["offset"] as? NSNumber)?.intValue ?? 0
                for (i, any) in (positive["bucketCounts"] as? [Any] ?? []).enumerated() {
                    guard let c = Self.uint(any) else { reject("bad bucket count"); break }
                    let d = delta(key + "#\(offset + i)", c, cumulative: cumulative)
                    guard d >= 1 else { continue }
                    // Bucket index k covers (base^k, base^(k+1)]: its geometric midpoint.
                    let mid = pow(base, Double(offset + i) + 0.5) * factor
                    out.samples.append((placement, MappedSample(node: placement.node, metric: metric, value: mid, gpu: workload,
                                                                weight: UInt32(min(d, 4e9)))))
                }
            }
            return
        }
        let points = ((m["gauge"] ?? m["sum"]) as? [String: Any])?["dataPoints"] as? [[String: Any]] ?? []
        let normalized = name.replacingOccurrences(of: ".", with: "_").lowercased()
        let gauge: Metric? = {
            switch normalized {
            case "hw_gpu_utilization", "gpu_util", "gpu_utilization": return .gpuUtil
            case "hw_gpu_temperature", "gpu_temp_c", "gpu_temperature": return .gpuTempC
            case "hw_gpu_memory_usage", "gpu_mem_used_mib": return .gpuMemUsedMiB
            case "gpu_mem_total_mib", "hw_gpu_memory_limit": return .gpuMemTotalMiB
            case "gpu_power_w", "hw_gpu_power": return .gpuPowerW
            case "errors", "edgetop_errors": return .errors
            default: return nil
            }
        }()
        guard let metric = gauge else { return }
        let cumulative = ((m["sum"] as? [String: Any])?["aggregationTemporality"] as? Int) == 2
        for p in points {
            guard var v = Self.number(p), v.isFinite else { reject("value is not a finite number"); continue }
            let attrs = Self.attributes(p["attributes"])
            var gpu: UInt8 = 0
            if metric.isPerGPU {
                guard let g = (attrs["gpu.index"] ?? attrs["gpu"]).flatMap({ UInt8($0) }), g < 64 else {
                    reject("no gpu.index attribute"); continue
                }
                gpu = g
            } else {
                gpu = workload(attrs, resource: placement).rawValue  // errors: the byte holds the class
            }
            if metric == .gpuUtil && (unit == "1" || v <= 1 && name.hasPrefix("hw.")) { v *= 100 }
            if metric == .gpuMemUsedMiB || metric == .gpuMemTotalMiB, unit == "By" { v /= 1_048_576 }
            if metric == .errors {
                v = delta(seriesKey(placement, name, attrs), v, cumulative: cumulative)
                if v < 1 { continue }
            }
            out.samples.append((placement, MappedSample(node: placement.node, metric: metric, value: v, gpu: gpu)))
        }
    }

    /// A point's workload class: its `edgetop.class` attribute (in `a`, its attributes), else its
    /// resource's, else its `gen_ai.operation.name` through the config's aliases.
    func workload(_ a: [String: String], resource: Placement) -> WorkloadClass {
        if let c = a["edgetop.class"] { return classes.workload(named: c) }
        if resource.workload != .unclassified { return resource.workload }
        return a["gen_ai.operation.name"].map { classes.workload(named: $0) } ?? .unclassified
    }

    /// A point's series across exports: node, metric name and attributes (`attrs`, the point's
    /// attributes as `attributes(_:)` reads them, parsed once per point).
    func seriesKey(_ placement: Placement, _ name: String, _ attrs: [String: String]) -> String {
        let attrs = attrs.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
        return "\(placement.node)|\(name)|\(attrs)"
    }

    /// The increase since the previous export for cumulative series (a decrease is a reset:
    /// the whole value is new); delta series are taken as they are.
    mutating func delta(_ key: String, _ value: Double, cumulative: Bool) -> Double {
        guard cumulative else { return value }
        defer { previous[key] = value }
        guard let before = previous[key] else { return value }
        return value >= before ? value - before : value
    }
}
