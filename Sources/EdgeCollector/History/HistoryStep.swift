import EdgeCore
import Foundation

/// One step of an entity's history, as read back from its ring.
///
/// Latency quantiles come from the step's merged histogram (never averaged); gauges are the
/// GPUs' mean and max at the step; `health` counts nodes per state (a node's own ring holds
/// one node, so exactly one count is 1). A step the entity did not exist for, or one lost to
/// a gap, has `hasData == false` and NaN figures.
public struct HistoryStep: Sendable, Equatable {
    public var hasData: Bool
    public var count: UInt64
    public var errors: UInt64
    public var p50: Double
    public var p99: Double
    public var gpuUtilMean: Double
    public var gpuUtilMax: Double
    public var gpuTempMean: Double
    public var gpuTempMax: Double
    public var health: HealthCounts

    public init(hasData: Bool = false, count: UInt64 = 0, errors: UInt64 = 0, p50: Double = .nan, p99: Double = .nan,
                gpuUtilMean: Double = .nan, gpuUtilMax: Double = .nan, gpuTempMean: Double = .nan,
                gpuTempMax: Double = .nan, health: HealthCounts = HealthCounts()) {
        self.hasData = hasData; self.count = count; self.errors = errors; self.p50 = p50; self.p99 = p99
        self.gpuUtilMean = gpuUtilMean; self.gpuUtilMax = gpuUtilMax
        self.gpuTempMean = gpuTempMean; self.gpuTempMax = gpuTempMax; self.health = health
    }

    public static let empty = HistoryStep()

    public static func == (a: HistoryStep, b: HistoryStep) -> Bool {
        func same(_ x: Double, _ y: Double) -> Bool { x == y || (x.isNaN && y.isNaN) }
        return a.hasData == b.hasData && a.count == b.count && a.errors == b.errors && same(a.p50, b.p50)
            && same(a.p99, b.p99) && same(a.gpuUtilMean, b.gpuUtilMean) && same(a.gpuUtilMax, b.gpuUtilMax)
            && same(a.gpuTempMean, b.gpuTempMean) && same(a.gpuTempMax, b.gpuTempMax) && a.health == b.health
    }

    /// Error percentage of the step's outcomes (errors over requests plus errors); NaN without traffic.
    public var errorPct: Double {
        let total = Double(count) + Double(errors)
        return total > 0 ? Double(errors) / total * 100 : .nan
    }

    /// The worst health state present (a node's state).
    public var worst: HealthState? {
        guard hasData else { return nil }
        if health.down > 0 { return .down }
        if health.degraded > 0 { return .degraded }
        if health.stale > 0 { return .stale }
        return health.healthy > 0 ? .healthy : nil
    }
}

/// How history values are packed into a ring's bytes: latency as a 16-bit log code (2,048
/// codes per doubling: 0.034 % apart, 1 µs to 71 min), gauges as whole percent / °C in a byte.
/// A quantised value differs from the exact one by less than the histogram's own resolution,
/// and `HistoryCodec.round` gives tests the exact value a ring stores.
public enum HistoryCodec {
    static let codesPerOctave = 2048.0
    static let minMs = 0.001

    @inline(__always)
    static func encodeMs(_ ms: Double) -> UInt16 {
        guard ms.isFinite, ms >= 0 else { return 0 }
        let v = Swift.max(ms, minMs)
        let code = (log2(v / minMs) * codesPerOctave).rounded()
        return UInt16(Swift.min(65534, Swift.max(0, code))) + 1
    }

    @inline(__always)
    static func decodeMs(_ code: UInt16) -> Double {
        code == 0 ? .nan : minMs * exp2(Double(code - 1) / codesPerOctave)
    }

    @inline(__always)
    static func encodeGauge(_ v: Double) -> UInt8 {
        guard v.isFinite else { return 255 }
        return UInt8(Swift.min(254, Swift.max(0, v.rounded())))
    }

    @inline(__always)
    static func decodeGauge(_ b: UInt8) -> Double { b == 255 ? .nan : Double(b) }

    /// The latency a ring returns for `ms` (the quantisation, for tests and docs).
    public static func round(_ ms: Double) -> Double { decodeMs(encodeMs(ms)) }
    /// The gauge value a ring returns for `v`.
    public static func roundGauge(_ v: Double) -> Double { decodeGauge(encodeGauge(v)) }
}

/// What a history read covers: 15 min of 1 s steps, or 1 h / 24 h of 1 min steps.
public enum HistorySpan: String, Sendable, CaseIterable {
    case m15 = "15m"
    case h1 = "1h"
    case h24 = "24h"

    public var stepSeconds: Double { self == .m15 ? 1 : 60 }
    public var steps: Int {
        switch self {
        case .m15: 900
        case .h1: 60
        case .h24: 1440
        }
    }
    /// The next span (the chart key cycles 15m → 1h → 24h).
    public var next: HistorySpan {
        switch self {
        case .m15: .h1
        case .h1: .h24
        case .h24: .m15
        }
    }
}

/// What a history belongs to.
public enum HistoryEntity: Hashable, Sendable {
    case fleet
    case region(String)
    case site(String)
    case node(String)
}

/// An entity's history over a span: `steps[i]` covers `[t0 + i·stepSeconds, t0 + (i+1)·stepSeconds)`.
public struct HistorySeries: Sendable, Equatable {
    public var stepSeconds: Double
    /// Start of the first step, seconds since the epoch.
    public var t0: Double
    public var steps: [HistoryStep]

    public init(stepSeconds: Double, t0: Double, steps: [HistoryStep]) {
        self.stepSeconds = stepSeconds; self.t0 = t0; self.steps = steps
    }

    public var p99Ms: [Double] { steps.map(\.p99) }
    public var p50Ms: [Double] { steps.map(\.p50) }
    /// Requests per second in each step (NaN where the entity had no data).
    public var rps: [Double] { steps.map { $0.hasData ? Double($0.count) / stepSeconds : .nan } }
    public var errorPct: [Double] { steps.map(\.errorPct) }
    public var gpuUtilPct: [Double] { steps.map(\.gpuUtilMean) }
    public var gpuTempMaxC: [Double] { steps.map(\.gpuTempMax) }
}

/// Answers history reads for the views (the local collector, or a query backend).
public protocol HistoryProvider: Sendable {
    /// The history of each entity asked for that is known, over `span`, ending at `now`.
    func history(of entities: [HistoryEntity], span: HistorySpan, at now: Double) -> [HistoryEntity: HistorySeries]
}
