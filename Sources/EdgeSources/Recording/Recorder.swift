import Dispatch
import EdgeCollector
import EdgeCore
import Foundation

/// `--record FILE`: writes every sample the collector ingests, from any source, as JSON Lines
/// in the replay format, so `--replay FILE` rebuilds the same fleet.
///
/// The file starts with a header line (schema, start time, the collector settings), then
/// declares each source and each node (its full placement) before the first sample that needs
/// it, so provenance (one request, one count) and latency tiers survive the round trip.
/// Batches are formatted on the recorder's own queue, never on the ingest path; the buffer is
/// written out at least once a second, so a crash loses at most a second. With a size limit
/// the file rotates: FILE becomes FILE.1 and a fresh FILE starts with its own header and
/// declarations, so each file replays on its own.
public final class Recorder: @unchecked Sendable {
    public static let schema = "edgetop.recording/v1"

    public let path: String
    private let maxBytes: Int?
    private let collector: Collector
    private let config: CollectorConfig
    private let start: Double
    private let queue = DispatchQueue(label: "edgetop.recorder")
    // On `queue`:
    private var fd: Int32 = -1
    private var buffer: [UInt8] = []
    private var fileBytes = 0
    private var nodePart: [NodeRef: [UInt8]] = [:]
    private var declaredSources = 0
    private var timer: (any DispatchSourceTimer)?
    private var failure: String?
    /// Samples written and files started, for the closing line.
    public private(set) var samples: UInt64 = 0
    public private(set) var rotations = 0

    public struct OpenError: Error, CustomStringConvertible { public var description: String }

    /// Opens (truncates) `path` and writes the header. `maxMB` bounds the file (rotating).
    public init(path: String, maxMB: Double?, collector: Collector, start: Double) throws {
        self.path = path
        self.maxBytes = maxMB.map { max(1 << 16, Int($0 * 1_048_576)) }
        self.collector = collector
        self.config = collector.config
        self.start = start
        try queue.sync { try openFile() }
        let t = DispatchSource.makeTimerSource(queue: queue)
        t.schedule(deadline: .now() + 1, repeating: 1)
        t.setEventHandler { [weak self] in self?.flush() }
        t.resume()
        timer = t
    }

    /// Hands a batch over (returns at once; formatted and written on the recorder's queue).
    public func record(_ batch: [Sample]) {
        queue.async { self.append(batch) }
    }

    /// Writes what is buffered and closes the file. Returns the first write error, if any.
    @discardableResult
    public func close() -> String? {
        queue.sync {
            timer?.cancel()
            timer = nil
            flush()
            if fd >= 0 { Foundation.close(fd); fd = -1 }
            return failure
        }
    }

    private func openFile() throws {
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw OpenError(description: "cannot write recording \(path): \(String(cString: strerror(errno)))") }
        fileBytes = 0
        var header = "{\"schema\":\"\(Self.schema)\",\"start\":\(Self.number(start)),\"interval_s\":\(Self.number(config.intervalSeconds))"
        header += ",\"window_s\":\(Self.number(config.windowSeconds)),\"sub_windows\":\(config.subWindows)"
        header += ",\"topology\":\"nodes are declared in this file (placement lines)\"}\n"
        buffer.append(contentsOf: header.utf8)
        declaredSources = 0
        let known = nodePart.keys
        nodePart = [:]
        for ref in known { declare(ref) }  // a rotated file stands on its own
    }

    private func append(_ batch: [Sample]) {
        guard fd >= 0 else { return }
        for s in batch {
            if Int(s.source) >= declaredSources { declareSources(upTo: Int(s.source)) }
            if nodePart[s.node] == nil { declare(s.node) }
            guard let part = nodePart[s.node] else { continue }
            buffer.append(contentsOf: "{\"t\":".utf8)
            buffer.append(contentsOf: (s.time.isFinite ? Self.number(s.time) : "null").utf8)
            buffer.append(contentsOf: part)
            buffer.append(contentsOf: ",\"metric\":\"".utf8)
            buffer.append(contentsOf: s.metric.name.utf8)
            buffer.append(contentsOf: "\",\"value\":".utf8)
            buffer.append(contentsOf: (s.value.isFinite ? Self.number(s.value) : "null").utf8)  // replay rejects it, as ingest did
            if s.metric.isPerGPU { buffer.append(contentsOf: ",\"gpu\":\(s.gpu)".utf8) }
            if s.workload != .unclassified {
                buffer.append(contentsOf: ",\"class\":\"".utf8)
                buffer.append(contentsOf: s.workload.id.utf8)
                buffer.append(0x22)
            }
            if s.weight != 1 { buffer.append(contentsOf: ",\"weight\":\(s.weight)".utf8) }
            if s.source != 0 { buffer.append(contentsOf: ",\"src\":\(s.source)".utf8) }
            buffer.append(contentsOf: "}\n".utf8)
            samples &+= 1
        }
        if buffer.count >= 1 << 20 { flush() }
    }

    private func declareSources(upTo id: Int) {
        let sources = collector.registeredSources
        while declaredSources < sources.count && declaredSources <= id {
            let s = sources[declaredSources]
            let line = "{\"source\":{\"id\":\(declaredSources),\"name\":\(Self.quote(s.name)),\"kind\":\"\(s.kind.rawValue)\",\"service\":\(Self.quote(s.service))}}\n"
            buffer.append(contentsOf: line.utf8)
            declaredSources += 1
        }
        if declaredSources <= id { declaredSources = id + 1 }  // an id the collector never gave out
    }

    private func declare(_ ref: NodeRef) {
        guard let p = collector.placement(of: ref) else { return }
        var line = "{\"placement\":{\"region\":\(Self.quote(p.regionID)),\"region_name\":\(Self.quote(p.regionName))"
        line += ",\"site\":\(Self.quote(p.siteID)),\"site_name\":\(Self.quote(p.siteName)),\"country\":\(Self.quote(p.country))"
        line += ",\"lat\":\(p.latitude.isFinite ? Self.number(p.latitude) : "null"),\"lon\":\(p.longitude.isFinite ? Self.number(p.longitude) : "null")"
        line += ",\"node\":\(Self.quote(p.nodeID)),\"tier_ms\":\(Self.number(p.tierMs)),\"gpus\":\(p.gpuCount)"
        if p.workload != .unclassified { line += ",\"class\":\"\(p.workload.id)\"" }
        line += "}}\n"
        buffer.append(contentsOf: line.utf8)
        nodePart[ref] = Array(",\"region\":\(Self.quote(p.regionID)),\"site\":\(Self.quote(p.siteID)),\"node\":\(Self.quote(p.nodeID))".utf8)
    }

    private func flush() {
        guard fd >= 0, !buffer.isEmpty else { return }
        if let maxBytes, fileBytes + buffer.count > maxBytes, fileBytes > 0 { rotate() }
        var off = 0
        buffer.withUnsafeBytes { b in
            while off < b.count {
                let n = write(fd, b.baseAddress! + off, b.count - off)
                if n < 0 {
                    if errno == EINTR { continue }
                    if failure == nil { failure = "recording \(path): \(String(cString: strerror(errno)))" }
                    return
                }
                off += n
            }
        }
        fileBytes += off
        buffer.removeAll(keepingCapacity: true)
    }

    private func rotate() {
        let pending = buffer
        buffer = []
        Foundation.close(fd)
        _ = rename(path, path + ".1")
        rotations += 1
        do { try openFile() } catch { failure = "\(error)"; fd = -1; return }
        buffer.append(contentsOf: pending)
    }

    /// Shortest text that reads back as exactly the same Double.
    static func number(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : "\(v)"
    }

    static func quote(_ s: String) -> String { JSONString.quote(s) }
}
