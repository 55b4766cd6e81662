import EdgeCollector
import EdgeCore
import Foundation

/// Reads samples from a JSON Lines file, one sample per line:
///
///     {"t": 1764230400.125, "region": "weu", "site": "fra1", "node": "fra1-n03", "metric": "latency_ms", "value": 12.5}
///
/// `metric` is one of `latency_ms`, `gpu_util` (0–100), `gpu_temp_c`, `gpu_mem_used_mib`,
/// `gpu_mem_total_mib`, `gpu_power_w`, `xid`, `throttle_reasons` (these need `"gpu": index`),
/// `up` (0 or 1), `errors`. Unknown regions, sites and nodes are created. A bad line is
/// reported with its number and reason, counted and skipped; good lines around it are kept.
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
    private var refs: [String: NodeRef] = [:]
    private var batch: [Sample] = []
    /// Called for each bad line as it is found (the CLI prints it to stderr).
    public var onError: (LineError) -> Void = { _ in }

    public init(collector: Collector) {
        self.collector = collector
        collector.nameDefaultSource("replay")
    }

    /// Replays a whole file.
    public mutating func replay(path: String) throws -> Outcome {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw FileError(description: "cannot open replay file \(path)")
        }
        defer { try? handle.close() }
        var samples = 0, lineNumber = 0, errorCount = 0, lastTime = -Double.infinity
        var errors: [LineError] = []
        var pending = Data()
        func handleLine(_ bytes: Data) {
            lineNumber += 1
            if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { return }  // blank line
            switch parse(bytes) {
            case .success(let s):
                samples += 1
                lastTime = max(lastTime, s.time)
                batch.append(s)
                if batch.count >= 4096 { flush() }
            case .failure(let e):
                let err = LineError(line: lineNumber, reason: e.reason)
                errorCount += 1
                if errors.count < 1000 { errors.append(err) }
                onError(err)
            }
        }
        while true {
            let chunk: Data
            do { chunk = try handle.read(upToCount: 1 << 20) ?? Data() } catch {
                throw FileError(description: "cannot read replay file \(path): \(error.localizedDescription)")
            }
            if chunk.isEmpty { break }
            pending.append(chunk)
            var start = pending.startIndex
            while let nl = pending[start...].firstIndex(of: 0x0A) {
                handleLine(pending[start..<nl])
                start = pending.index(after: nl)
            }
            pending = Data(pending[start...])
        }
        if !pending.isEmpty { handleLine(pending) }
        flush()
        if errorCount > 0 { collector.countInvalid(UInt64(errorCount)) }
        collector.drain()
        return Outcome(samples: samples, errors: errors, errorCount: errorCount, lastTime: lastTime)
    }

    private mutating func flush() {
        guard !batch.isEmpty else { return }
        collector.ingest(batch)
        batch.removeAll(keepingCapacity: true)
    }

    struct Reason: Error { var reason: String }

    /// Parses and validates one line into a sample, registering its node when new.
    mutating func parse(_ bytes: Data) -> Result<Sample, Reason> {
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
        func text(_ key: String) -> String? {
            guard let s = o[key] as? String, !s.isEmpty, s.utf8.count <= 256 else { return nil }
            return s
        }
        guard let t = number("t"), t.isFinite, t > 0 else { return .failure(Reason(reason: "missing or invalid \"t\" (seconds since the epoch)")) }
        guard let region = text("region") else { return .failure(Reason(reason: "missing or invalid \"region\"")) }
        guard let site = text("site") else { return .failure(Reason(reason: "missing or invalid \"site\"")) }
        guard let node = text("node") else { return .failure(Reason(reason: "missing or invalid \"node\"")) }
        guard let metricName = o["metric"] as? String else { return .failure(Reason(reason: "missing \"metric\"")) }
        guard let metric = Metric(name: metricName) else {
            return .failure(Reason(reason: "unknown metric \"\(metricName.prefix(40))\""))
        }
        guard let value = number("value") else { return .failure(Reason(reason: "missing or non-numeric \"value\"")) }
        guard value.isFinite else { return .failure(Reason(reason: "value is not finite")) }
        var gpu: UInt8 = 0
        if metric.isPerGPU {
            guard let g = number("gpu"), g >= 0, g < 64, g == g.rounded() else {
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
        let key = region + "\u{1F}" + node
        let ref: NodeRef
        if let r = refs[key] { ref = r } else {
            if let existing = collector.ref(forNode: node) {
                ref = existing
            } else {
                ref = collector.register(NodePlacement(regionID: region, siteID: site, nodeID: node))
            }
            refs[key] = ref
        }
        return .success(Sample(node: ref, time: t, metric: metric, value: value, gpu: gpu))
    }
}
