import EdgeCore
import Foundation

/// A fixed-size ring of packed history steps for one entity, allocated once (`calloc`, so pages
/// are only touched as steps arrive) and never grown. Steps are addressed by their absolute
/// index (`floor(time / stepSeconds)`); a step is stored at `index mod capacity`, and slots the
/// ring skipped over (no step closed there) read back as no data.
///
/// Layout of a step: node rings (`wide == false`, 13 bytes) keep 16-bit request and error
/// counts (saturating) and the node's state; group rings (24 bytes) keep 32-bit counts and
/// 16-bit counts per health state.
///
/// A struct held inline by its entity's `HistoryRings`, which frees the storage: the history
/// walk writes every node's ring each second, and an object per ring was one more pointer
/// (and cache miss) per node per step.
struct HistoryRing {
    let capacity: Int
    let wide: Bool
    private let stride: Int
    private let storage: UnsafeMutableRawPointer
    /// Absolute index of the newest step written; Int.min before the first.
    private(set) var newest = Int.min

    static func stride(wide: Bool) -> Int { wide ? 24 : 13 }

    init(capacity: Int, wide: Bool) {
        self.capacity = max(1, capacity)
        self.wide = wide
        stride = Self.stride(wide: wide)
        guard let p = calloc(self.capacity, stride) else { fatalError("history ring of \(self.capacity) steps: out of memory (errno \(errno))") }
        storage = p
    }

    /// Frees the storage; the owner calls it once, when it goes.
    func deallocate() { free(storage) }

    var byteCount: Int { capacity * stride + 48 }

    /// Writes step `index` as a copy of the newest step, when `index` follows it; false (and
    /// nothing written) otherwise. A quiet node's step is the same as its last, so the walk
    /// copies its bytes rather than build and encode it again.
    mutating func repeatNewest(as index: Int) -> Bool {
        guard newest != Int.min, index == newest + 1 else { return false }
        (storage + slot(index) * stride).copyMemory(from: storage + slot(newest) * stride, byteCount: stride)
        newest = index
        return true
    }

    /// Writes step `index`. A newer step clears the slots it skipped; an older one still inside
    /// the ring overwrites its slot (a late contribution); one older than the ring is dropped.
    mutating func write(_ index: Int, _ step: HistoryStep) {
        if newest == Int.min || index > newest {
            if newest != Int.min {
                let skipped = min(index - newest - 1, capacity)
                var k = newest + 1
                for _ in 0..<max(0, skipped) { clear(slot(k)); k += 1 }
            }
            newest = index
        } else if index <= newest - capacity {
            return
        }
        store(step, at: slot(index))
    }

    /// Steps `end - count + 1 ... end`, oldest first.
    func read(end: Int, count: Int) -> [HistoryStep] {
        var out = [HistoryStep]()
        out.reserveCapacity(count)
        for k in (end - count + 1)...end {
            if newest == Int.min || k > newest || k <= newest - capacity { out.append(.empty) } else { out.append(load(slot(k))) }
        }
        return out
    }

    @inline(__always) private func slot(_ k: Int) -> Int { ((k % capacity) + capacity) % capacity }

    private func clear(_ s: Int) { (storage + s * stride).initializeMemory(as: UInt8.self, repeating: 0, count: stride) }

    private func store(_ h: HistoryStep, at s: Int) {
        let p = storage + s * stride
        let gauges = (HistoryCodec.encodeGauge(h.gpuUtilMean), HistoryCodec.encodeGauge(h.gpuUtilMax),
                      HistoryCodec.encodeGauge(h.gpuTempMean), HistoryCodec.encodeGauge(h.gpuTempMax))
        if wide {
            p.storeBytes(of: UInt32(clamping: h.count), toByteOffset: 0, as: UInt32.self)
            p.storeBytes(of: UInt32(clamping: h.errors), toByteOffset: 4, as: UInt32.self)
            p.storeBytes(of: HistoryCodec.encodeMs(h.p50), toByteOffset: 8, as: UInt16.self)
            p.storeBytes(of: HistoryCodec.encodeMs(h.p99), toByteOffset: 10, as: UInt16.self)
            p.storeBytes(of: gauges.0, toByteOffset: 12, as: UInt8.self)
            p.storeBytes(of: gauges.1, toByteOffset: 13, as: UInt8.self)
            p.storeBytes(of: gauges.2, toByteOffset: 14, as: UInt8.self)
            p.storeBytes(of: gauges.3, toByteOffset: 15, as: UInt8.self)
            p.storeBytes(of: UInt16(clamping: h.health.healthy), toByteOffset: 16, as: UInt16.self)
            p.storeBytes(of: UInt16(clamping: h.health.degraded), toByteOffset: 18, as: UInt16.self)
            p.storeBytes(of: UInt16(clamping: h.health.down), toByteOffset: 20, as: UInt16.self)
            p.storeBytes(of: UInt16(clamping: h.health.stale), toByteOffset: 22, as: UInt16.self)
        } else {
            p.storeBytes(of: UInt16(clamping: h.count), toByteOffset: 0, as: UInt16.self)
            p.storeBytes(of: UInt16(clamping: h.errors), toByteOffset: 2, as: UInt16.self)
            p.storeBytes(of: HistoryCodec.encodeMs(h.p50), toByteOffset: 4, as: UInt16.self)
            p.storeBytes(of: HistoryCodec.encodeMs(h.p99), toByteOffset: 6, as: UInt16.self)
            p.storeBytes(of: gauges.0, toByteOffset: 8, as: UInt8.self)
            p.storeBytes(of: gauges.1, toByteOffset: 9, as: UInt8.self)
            p.storeBytes(of: gauges.2, toByteOffset: 10, as: UInt8.self)
            p.storeBytes(of: gauges.3, toByteOffset: 11, as: UInt8.self)
            // 0: no data; 1 + HealthState.rawValue otherwise.
            let state = h.worst.map { UInt8($0.rawValue + 1) } ?? 0
            p.storeBytes(of: state, toByteOffset: 12, as: UInt8.self)
        }
    }

    private func load(_ s: Int) -> HistoryStep {
        let p = UnsafeRawPointer(storage + s * stride)
        var h = HistoryStep()
        if wide {
            h.health = HealthCounts(healthy: Int(p.loadUnaligned(fromByteOffset: 16, as: UInt16.self)),
                                    degraded: Int(p.loadUnaligned(fromByteOffset: 18, as: UInt16.self)),
                                    down: Int(p.loadUnaligned(fromByteOffset: 20, as: UInt16.self)),
                                    stale: Int(p.loadUnaligned(fromByteOffset: 22, as: UInt16.self)))
            guard h.health.total > 0 else { return .empty }
            h.count = UInt64(p.loadUnaligned(fromByteOffset: 0, as: UInt32.self))
            h.errors = UInt64(p.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
            h.p50 = HistoryCodec.decodeMs(p.loadUnaligned(fromByteOffset: 8, as: UInt16.self))
            h.p99 = HistoryCodec.decodeMs(p.loadUnaligned(fromByteOffset: 10, as: UInt16.self))
            h.gpuUtilMean = HistoryCodec.decodeGauge(p.load(fromByteOffset: 12, as: UInt8.self))
            h.gpuUtilMax = HistoryCodec.decodeGauge(p.load(fromByteOffset: 13, as: UInt8.self))
            h.gpuTempMean = HistoryCodec.decodeGauge(p.load(fromByteOffset: 14, as: UInt8.self))
            h.gpuTempMax = HistoryCodec.decodeGauge(p.load(fromByteOffset: 15, as: UInt8.self))
        } else {
            let state = p.load(fromByteOffset: 12, as: UInt8.self)
            guard state != 0, let s = HealthState(rawValue: Int(state) - 1) else { return .empty }
            h.health.add(s)
            h.count = UInt64(p.loadUnaligned(fromByteOffset: 0, as: UInt16.self))
            h.errors = UInt64(p.loadUnaligned(fromByteOffset: 2, as: UInt16.self))
            h.p50 = HistoryCodec.decodeMs(p.loadUnaligned(fromByteOffset: 4, as: UInt16.self))
            h.p99 = HistoryCodec.decodeMs(p.loadUnaligned(fromByteOffset: 6, as: UInt16.self))
            h.gpuUtilMean = HistoryCodec.decodeGauge(p.load(fromByteOffset: 8, as: UInt8.self))
            h.gpuUtilMax = HistoryCodec.decodeGauge(p.load(fromByteOffset: 9, as: UInt8.self))
            h.gpuTempMean = HistoryCodec.decodeGauge(p.load(fromByteOffset: 10, as: UInt8.self))
            h.gpuTempMax = HistoryCodec.decodeGauge(p.load(fromByteOffset: 11, as: UInt8.self))
        }
        h.hasData = true
        return h
    }
}

/// An entity's two rings: 1 s steps and 1 min steps. Only its entity's queue (or the fleet's
/// lock) touches them, so the rings skip the runtime's exclusivity checks.
final class HistoryRings {
    @exclusivity(unchecked) var short: HistoryRing
    @exclusivity(unchecked) var long: HistoryRing

    /// `detail`: a site's or node's rings (`HistoryConfig.detailShortSteps`…), else the
    /// fleet's or a region's.
    init(config: HistoryConfig, wide: Bool, detail: Bool) {
        short = HistoryRing(capacity: detail ? config.detailShortSteps : config.shortSteps, wide: wide)
        long = HistoryRing(capacity: detail ? config.detailLongSteps : config.longSteps, wide: wide)
    }

    deinit {
        short.deallocate()
        long.deallocate()
    }

    var byteCount: Int { short.byteCount + long.byteCount }

    /// Writes step `index` of the 1 min ring (`long`) or the 1 s one.
    func write(_ index: Int, _ step: HistoryStep, long isLong: Bool) {
        if isLong { long.write(index, step) } else { short.write(index, step) }
    }

    /// Bench only: writes every slot of both rings.
    func fill() {
        let step = HistoryStep(hasData: true, count: 1, p50: 1, p99: 2, health: HealthCounts(healthy: 1))
        func fill(_ ring: inout HistoryRing) {
            let base = max(0, ring.newest == Int.min ? 0 : ring.newest + 1)
            for k in base..<(base + ring.capacity) { ring.write(k, step) }
        }
        fill(&short)
        fill(&long)
    }

    /// The series over `span` ending with the step that contains `now - stepSeconds` (the last
    /// closed step).
    func series(_ span: HistorySpan, at now: Double) -> HistorySeries {
        let ring = span == .m15 ? short : long
        let end = Int((now / span.stepSeconds).rounded(.down)) - 1
        let n = min(span.steps, ring.capacity)
        return HistorySeries(stepSeconds: span.stepSeconds, t0: Double(end - n + 1) * span.stepSeconds,
                             steps: ring.read(end: end, count: n))
    }
}

/// How much history the collector keeps, per entity: `shortSteps` of 1 s and `longSteps` of
/// 1 min for the fleet and each region; `detailShortSteps` and `detailLongSteps` for each site
/// and node (there are thousands of those, so they are where memory goes).
///
/// - `standard` (the default): fleet and regions 15 min and 24 h; sites and nodes 3 min and
///   1 h — 3.1 KB a node, ~55 MB for the default fleet.
/// - `full`: 15 min and 24 h everywhere — 30 KB a node, ~540 MB for the default fleet.
/// - `off`.
public struct HistoryConfig: Sendable, Equatable {
    public var shortSteps: Int
    public var longSteps: Int
    public var detailShortSteps: Int
    public var detailLongSteps: Int

    /// The same depth at every level.
    public init(shortSteps: Int, longSteps: Int) {
        self.init(shortSteps: shortSteps, longSteps: longSteps, detailShortSteps: shortSteps, detailLongSteps: longSteps)
    }

    public init(shortSteps: Int, longSteps: Int, detailShortSteps: Int, detailLongSteps: Int) {
        self.shortSteps = max(0, shortSteps); self.longSteps = max(0, longSteps)
        self.detailShortSteps = max(0, detailShortSteps); self.detailLongSteps = max(0, detailLongSteps)
    }

    public init() { self = .standard }

    public static let standard = HistoryConfig(shortSteps: 900, longSteps: 1440, detailShortSteps: 180, detailLongSteps: 60)
    public static let full = HistoryConfig(shortSteps: 900, longSteps: 1440)
    public static let off = HistoryConfig(shortSteps: 0, longSteps: 0)

    /// `standard`, `full` or `off` (the `--history-depth` values).
    public init?(depth: String) {
        switch depth {
        case "standard": self = .standard
        case "full": self = .full
        case "off": self = .off
        default: return nil
        }
    }

    public var enabled: Bool { shortSteps > 0 || longSteps > 0 || detailShortSteps > 0 || detailLongSteps > 0 }

    /// Bytes one node's rings take (for the bench and the README).
    public var bytesPerNode: Int { (detailShortSteps + detailLongSteps) * HistoryRing.stride(wide: false) }
    /// Bytes one site's rings take.
    public var bytesPerSite: Int { (detailShortSteps + detailLongSteps) * HistoryRing.stride(wide: true) }
    /// Bytes a region's or the fleet's rings take.
    public var bytesPerGroup: Int { (shortSteps + longSteps) * HistoryRing.stride(wide: true) }
}
