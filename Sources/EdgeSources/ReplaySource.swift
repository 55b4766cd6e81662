import EdgeCollector
import EdgeCore
import Foundation

/// Reads samples from a JSON Lines file, one sample per line:
///
///     {"t": 1764230400.125, "region": "weu", "site": "fra1", "node": "fra1-n03", "metric": "latency_ms", "value": 12.5}
///
/// `metric` is one of `latency_ms`, `gpu_util` (0–100), `gpu_temp_c`, `gpu_mem_used_mib`,
/// `gpu_mem_total_mib`, `gpu_power_w`, `xid`, `throttle_reasons` (these need `"gpu": index`),
/// `up` (0 or 1), `errors`. Latency and error lines may carry `"class"`, a workload class id
/// (`code_completion`, …; an unknown id counts as `unclassified`). Unknown regions, sites and
/// nodes are created. A bad line is reported with its number and reason, counted and skipped;
/// good lines around it are kept.
public struct ReplaySource {
    /// A line that was skipped, and why.
    public struct LineError: Sendable, CustomStringConvertible, Equatable {
        public var line: Int
        public var reason: String
        public var description: String { "line \(line): \(reason)" }
    }

    /// What a replay did.
    public struct Outcome: Sendable {
        public var samples: Int
        public var errors: [LineError]
        /// How many bad lines there were in all (`errors` keeps only the first 1,000).
        public var errorCount: Int
        /// Time of the latest sample: the snapshot is taken there.
        public var lastTime: Double
    }

    public struct FileError: Error, CustomStringConvertible {
        public var description: String
    }

    private let collector: Collector
    /// Nodes this replay has placed, by region and node bytes.
    private var refs = NodeRefTable()
    private var batch: [Sample] = []
    /// Called for each bad line as it is found (the CLI prints it to stderr).
    public var onError: (LineError) -> Void = { _ in }
    /// Samples at or after this time are left out (`snapshot --replay F --at T`); they are neither
    /// counted nor errors.
    public var until: Double?
    /// A recording's sources, by the ids its lines carry.
    private var sourceIDs: [Int: SourceID] = [:]
    /// The recording's header, when the file has one.
    public private(set) var header: RecordingHeader?
    /// Samples left out by `until`.
    public private(set) var skippedAfter = 0
    /// Paces a replay (`--speed`): called with a sample's time when it is later than the last
    /// answer; it waits until the replay clock reaches that time and returns the clock, or nil
    /// to stop reading. What was read before is handed to the collector before it waits.
    public var pace: ((Double) -> Double?)?
    private var paceHorizon = -Double.infinity
    /// Called after each chunk of the file (1 MiB) is read and handed to the collector, with
    /// the bytes read so far and the latest sample time (the live view's progress).
    public var onChunk: ((_ bytesRead: Int, _ lastTime: Double) -> Void)?
    private var stopped = false

    public init(collector: Collector) {
        self.collector = collector
        collector.nameDefaultSource("replay")
    }

    /// Replays a whole file.
    public mutating func replay(path: String) throws -> Outcome {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw FileError(description: "cannot open replay file \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var samples = 0, lineNumber = 0, errorCount = 0, lastTime = -Double.infinity
        var errors: [LineError] = []
        func handleLine(_ line: UnsafeRawBufferPointer) {
            lineNumber += 1
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { return }  // blank line
            if line.first == 0x7B, line.count > 3, line[1] == 0x22, line[2] == 0x73 || line[2] == 0x70 {
                // {"schema…, {"source…, {"placement…: a recording's declarations.
                if let problem = declaration(line) {
                    if problem.isEmpty { return }
                    let err = LineError(line: lineNumber, reason: problem)
                    errorCount += 1
                    if errors.count < 1000 { errors.append(err) }
                    onError(err)
                    return
                }
            }
            if stopped { return }
            switch parse(line) {
            case .success(let s):
                if let until, s.time >= until { skippedAfter += 1; return }
                if let pace, s.time > paceHorizon {
                    flush()
                    collector.drain()
                    guard let clock = pace(s.time) else { stopped = true; return }
                    paceHorizon = min(clock, s.time + 0.5)  // report progress every half second of data
                }  // the fleet as it stood at `until`
                samples += 1
                if s.time > lastTime { lastTime = s.time }
                batch.append(s)
                if batch.count >= Self.batchSize { flush() }
            case .failure(let e):
                let err = LineError(line: lineNumber, reason: e.reason)
                errorCount += 1
                if errors.count < 1000 { errors.append(err) }
                onError(err)
            }
        }
        // One buffer for the whole file: a 1 MiB read lands after the unfinished line the last
        // read left at the front, and lines are cut by memchr in place (no copy per chunk).
        let chunkSize = 1 << 20
        var buffer = [UInt8](repeating: 0, count: chunkSize)
        var held = 0  // bytes of an unfinished line at the front
        var bytesRead = 0
        while !stopped {
            if buffer.count - held < chunkSize { buffer.append(contentsOf: repeatElement(0, count: chunkSize)) }  // a line over 1 MiB
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress! + held, chunkSize) }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileError(description: "cannot read replay file \(path): \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            let filled = held + n
            bytesRead += n
            let consumed = buffer.withUnsafeBytes { all -> Int in
                var start = 0
                while start < filled, let nl = memchr(all.baseAddress! + start, 0x0A, filled - start) {
                    let end = all.baseAddress!.distance(to: UnsafeRawPointer(nl))
                    handleLine(UnsafeRawBufferPointer(rebasing: all[start..<end]))
                    start = end + 1
                }
                return start
            }
            held = filled - consumed
            if let onChunk {
                flush()
                onChunk(bytesRead, lastTime)
            }
            if held > 0 && consumed > 0 {
                buffer.withUnsafeMutableBytes { b in _ = memmove(b.baseAddress!, b.baseAddress! + consumed, held) }
            }
        }
        if held > 0 { buffer.withUnsafeBytes { handleLine(UnsafeRawBufferPointer(rebasing: $0[0..<held])) } }
        flush()
        if errorCount > 0 { collector.countInvalid(UInt64(errorCount)) }
        collector.drain()
        return Outcome(samples: samples, errors: errors, errorCount: errorCount, lastTime: lastTime)
    }

    /// Samples handed to the collector at a time: split by region, each batch is one queue hop
    /// per region (4,096 made the reader and the lanes wake each other 1,400 times a sparse
    /// replay of 440k lines).
    static let batchSize = 16_384

    private mutating func flush() {
        guard !batch.isEmpty else { return }
        collector.ingest(batch)
        batch.removeAll(keepingCapacity: true)
    }

    package struct Reason: Error, Equatable {
        package var reason: String
        init(reason: String) { self.reason = PrintableText.line(reason) }
    }

    /// Parses and validates one line into a sample, registering its node when new: the byte
    /// scanner first, the general JSON parser for lines it does not take.
    package mutating func parse(_ bytes: UnsafeRawBufferPointer) -> Result<Sample, Reason> {
        guard let f = ReplayLineScanner.scan(bytes) else { return parseJSON(Data(bytes)) }
        if let t = f.t, t.isFinite, t > 0, let r = f.region, let s = f.site, let n = f.node, let m = f.metric,
           f.weight == nil || f.weight! >= 1, Self.validName(r), Self.validName(s), Self.validName(n),
           let metric = Metric.named(m) {
            let workload = f.workload.map(WorkloadClass.init(idBytes:))
            // A known node: no Strings at all (nearly every line).
            if let ref = refs.find(region: r, node: n) {
                return sample(t: t, metric: metric, value: f.value, gpu: f.gpu, weight: f.weight, src: f.src, workload: workload) { _ in ref }
            }
            // A new one: its names become Strings once, for its placement (the scanner hands
            // over ASCII only), and it is looked up no second time.
            return sample(t: t, metric: metric, value: f.value, gpu: f.gpu, weight: f.weight, src: f.src, workload: workload) { this in
                let region = String(decoding: r, as: UTF8.self), node = String(decoding: n, as: UTF8.self)
                let ref = this.collector.register(NodePlacement(regionID: region, siteID: String(decoding: s, as: UTF8.self), nodeID: node))
                this.refs.insertNew(region: region, node: node, ref: ref)
                return ref
            }
        }
        if f.weight == nil || f.weight! >= 1,
           let region = f.region.flatMap({ String(validating: $0, as: UTF8.self) }) ?? (f.region == nil ? "" : nil),
           let site = f.site.flatMap({ String(validating: $0, as: UTF8.self) }) ?? (f.site == nil ? "" : nil),
           let node = f.node.flatMap({ String(validating: $0, as: UTF8.self) }) ?? (f.node == nil ? "" : nil),
           let metric = f.metric.flatMap({ String(validating: $0, as: UTF8.self) }) ?? (f.metric == nil ? "" : nil) {
            return validate(t: f.t, region: region, site: site, node: node, metric: f.metric == nil ? nil : metric,
                            value: f.value, gpu: f.gpu, weight: f.weight, src: f.src, workload: f.workload.map(WorkloadClass.init(idBytes:)))
        }
        return parseJSON(Data(bytes))
    }

    /// A name the schema accepts: 1–256 bytes (the scanner hands over ASCII only).
    @inline(__always)
    static func validName(_ b: UnsafeRawBufferPointer) -> Bool { !b.isEmpty && b.count <= 256 }

    mutating func parse(_ bytes: Data) -> Result<Sample, Reason> {
        bytes.withUnsafeBytes { parse($0) }
    }

    /// The general path: any JSON, through Foundation.
    package mutating func parseJSON(_ bytes: Data) -> Result<Sample, Reason> {
        guard let object = try? JSONSerialization.jsonObject(with: bytes),
              let o = object as? [String: Any] else {
            return .failure(Reason(reason: String(data: bytes, encoding: .utf8) == nil ? "not UTF-8" : "not a JSON object"))
        }
        func number(_ key: String) -> Double? {
            // Foundation hands JSON booleans over as NSNumber (and `1 is Bool` holds on Linux):
            // tell them apart by their concrete class.
            guard let v = o[key], let n = v as? NSNumber,
                  !String(describing: type(of: v)).hasSuffix("Boolean") else { return nil }
            return n.doubleValue
        }
        func text(_ key: String) -> String { o[key] as? String ?? "" }
        var workload: WorkloadClass?
        if let c = o["class"] {
            guard let id = c as? String else { return .failure(Reason(reason: "\"class\" must be a workload class id (a string)")) }
            workload = WorkloadClass(id: id)
        }
        guard let metricName = o["metric"] as? String else { return validate(t: number("t"), region: text("region"), site: text("site"), node: text("node"), metric: nil, value: nil, gpu: nil) }
        return validate(t: number("t"), region: text("region"), site: text("site"), node: text("node"),
                        metric: metricName, value: number("value"), gpu: number("gpu"), weight: number("weight"), src: number("src"),
                        workload: workload)
    }

    /// The replay schema's rules, for both paths (so both give the same reasons). Empty names
    /// stand for missing or non-string ones.
    mutating func validate(t: Double?, region: String, site: String, node: String, metric metricName: String?,
                           value: Double?, gpu gpuValue: Double?, weight: Double? = nil, src: Double? = nil,
                           workload: WorkloadClass? = nil) -> Result<Sample, Reason> {
        func valid(_ s: String) -> Bool { !s.isEmpty && s.utf8.count <= 256 }
        guard let t, t.isFinite, t > 0 else { return .failure(Reason(reason: "missing or invalid \"t\" (seconds since the epoch)")) }
        guard valid(region) else { return .failure(Reason(reason: "missing or invalid \"region\"")) }
        guard valid(site) else { return .failure(Reason(reason: "missing or invalid \"site\"")) }
        guard valid(node) else { return .failure(Reason(reason: "missing or invalid \"node\"")) }
        guard let metricName else { return .failure(Reason(reason: "missing \"metric\"")) }
        var name = metricName
        guard let metric = name.withUTF8({ Metric.named(UnsafeRawBufferPointer($0)) }) else {
            return .failure(Reason(reason: "unknown metric \"\(metricName.prefix(40))\""))
        }
        return sample(t: t, metric: metric, value: value, gpu: gpuValue, weight: weight, src: src, workload: workload) { this in
            if let r = this.refs.find(region: region, node: node) { return r }
            let r = this.collector.register(NodePlacement(regionID: region, siteID: site, nodeID: node))  // the known ref when another region has it
            this.refs.insertNew(region: region, node: node, ref: r)
            return r
        }
    }

    /// The schema's rules for a sample's value, GPU, weight and source; `ref` places the node
    /// once the line is known to be good (a refused line registers nothing).
    mutating func sample(t: Double, metric: Metric, value: Double?, gpu gpuValue: Double?, weight: Double?, src: Double?,
                         workload: WorkloadClass?, ref place: (inout ReplaySource) -> NodeRef) -> Result<Sample, Reason> {
        guard let value else { return .failure(Reason(reason: "missing or non-numeric \"value\"")) }
        guard value.isFinite else { return .failure(Reason(reason: "value is not finite")) }
        var gpu: UInt8 = 0
        if metric.isPerGPU {
            guard let g = gpuValue, g >= 0, g < 64, g == g.rounded() else {
                return .failure(Reason(reason: "\(metric.name) needs \"gpu\": an integer 0–63"))
            }
            gpu = UInt8(g)
        }
        switch metric {
        case .latencyMs where value < 0: return .failure(Reason(reason: "latency_ms must be ≥ 0"))
        case .gpuUtil where value < 0 || value > 100: return .failure(Reason(reason: "gpu_util must be 0–100"))
        case .up where value != 0 && value != 1: return .failure(Reason(reason: "up must be 0 or 1"))
        case .xid where value < 0 || value != value.rounded(): return .failure(Reason(reason: "xid must be a non-negative integer"))
        case .gpuMemUsedMiB, .gpuMemTotalMiB, .gpuPowerW, .errors:
            if value < 0 { return .failure(Reason(reason: "\(metric.name) must be ≥ 0")) }
        default: break
        }
        var w: UInt32 = 1
        if let weight {
            guard weight >= 1, weight <= Double(UInt32.max), weight == weight.rounded() else {
                return .failure(Reason(reason: "weight must be a whole number ≥ 1"))
            }
            w = UInt32(weight)
        }
        var source: SourceID = 0
        if let src {
            guard let id = sourceIDs[Int(exactly: src) ?? -1] else { return .failure(Reason(reason: "src \(src) was not declared")) }
            source = id
        }
        let ref = place(&self)
        var sample = Sample(node: ref, time: t, metric: metric, value: value, gpu: gpu, weight: w, source: source)
        if let workload { sample.workload = workload }  // request metrics only (`Metric.carriesClass`)
        return .success(sample)
    }

    /// Applies a recording's header, source or placement line. Returns nil when the line is
    /// not one (it is then read as a sample), "" when applied, or why it is wrong.
    mutating func declaration(_ bytes: UnsafeRawBufferPointer) -> String? {
        guard let o = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else { return nil }
        if let schema = o["schema"] as? String {
            guard schema == Recorder.schema else { return "unknown recording schema \"\(schema.prefix(40))\"" }
            header = RecordingHeader(o)
            return ""
        }
        if let s = o["source"] as? [String: Any] {
            guard let id = (s["id"] as? NSNumber)?.intValue, let name = s["name"] as? String,
                  let kind = SourceKind(rawValue: s["kind"] as? String ?? "") else { return "malformed source declaration" }
            if id == 0 {
                collector.nameDefaultSource(name)
                sourceIDs[0] = 0
            } else {
                sourceIDs[id] = collector.registerSource(SourceInfo(name: name, kind: kind, service: s["service"] as? String ?? ""))
            }
            return ""
        }
        if let p = o["placement"] as? [String: Any] {
            func text(_ k: String) -> String? { (p[k] as? String).flatMap { $0.isEmpty || $0.utf8.count > 256 ? nil : $0 } }
            func num(_ k: String) -> Double { (p[k] as? NSNumber)?.doubleValue ?? .nan }
            guard let region = text("region"), let site = text("site"), let node = text("node") else { return "malformed placement" }
            let tier = num("tier_ms")
            let placement = NodePlacement(regionID: region, regionName: text("region_name"), siteID: site, siteName: text("site_name"),
                                          country: p["country"] as? String ?? "", latitude: num("lat"), longitude: num("lon"),
                                          nodeID: node, tierMs: tier.isFinite && tier > 0 ? tier : LatencyTierDefaults.unknownNodeTierMs,
                                          gpuCount: max(0, min(64, Int(num("gpus").isFinite ? num("gpus") : 0))),
                                          workload: WorkloadClass(id: p["class"] as? String ?? ""))
            if refs.find(region: region, node: node) == nil {
                refs.insert(region: region, node: node, ref: collector.ref(forNode: node) ?? collector.register(placement))
            }
            return ""
        }
        return nil
    }

    /// Where a replay starts: the recording's start, or the first sample's time.
    public static func startTime(of path: String) -> Double? {
        if let h = header(of: path), h.start.isFinite { return h.start }
        guard let h = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? h.close() }
        guard let data = try? h.read(upToCount: 1 << 16) else { return nil }
        for line in data.split(separator: 0x0A) {
            if let o = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any], let t = (o["t"] as? NSNumber)?.doubleValue {
                return t
            }
        }
        return nil
    }

    /// The header of the recording at `path` (its first line), if it is one.
    public static func header(of path: String) -> RecordingHeader? {
        guard let h = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? h.close() }
        guard let data = try? h.read(upToCount: 4096), let nl = data.firstIndex(of: 0x0A),
              let o = try? JSONSerialization.jsonObject(with: data[data.startIndex..<nl]) as? [String: Any],
              o["schema"] as? String == Recorder.schema else { return nil }
        return RecordingHeader(o)
    }
}

/// What a recording's header says about how it was collected.
public struct RecordingHeader: Sendable, Equatable {
    public var start: Double
    public var intervalSeconds: Double?
    public var windowSeconds: Double?
    public var subWindows: Int?

    init(_ o: [String: Any]) {
        start = (o["start"] as? NSNumber)?.doubleValue ?? .nan
        intervalSeconds = (o["interval_s"] as? NSNumber)?.doubleValue
        windowSeconds = (o["window_s"] as? NSNumber)?.doubleValue
        subWindows = (o["sub_windows"] as? NSNumber)?.intValue
    }
}
