/// Node health, ordered from best to worst so that `max` is the worst state.
///
/// DOWN: unreachable, `up == 0` or a fatal Xid. DEGRADED: non-fatal Xid, thermal throttling,
/// error rate or p99 above the node's latency tier. STALE: no sample for three collection
/// intervals. HEALTHY otherwise.
public enum HealthState: Int, Sendable, Comparable, CaseIterable {
    case healthy = 0
    case stale = 1
    case degraded = 2
    case down = 3

    public static func < (a: HealthState, b: HealthState) -> Bool { a.rawValue < b.rawValue }

    public var label: String {
        switch self {
        case .healthy: "HEALTHY"
        case .degraded: "DEGRADED"
        case .down: "DOWN"
        case .stale: "STALE"
        }
    }

    public init?(label: String) {
        guard let s = HealthState.allCases.first(where: { $0.label == label.uppercased() }) else { return nil }
        self = s
    }
}

/// Nodes per health state, for sites, regions and the fleet.
public struct HealthCounts: Sendable, Equatable {
    public var healthy = 0
    public var degraded = 0
    public var down = 0
    public var stale = 0

    public init(healthy: Int = 0, degraded: Int = 0, down: Int = 0, stale: Int = 0) {
        self.healthy = healthy; self.degraded = degraded; self.down = down; self.stale = stale
    }

    public var total: Int { healthy + degraded + down + stale }

    /// Every node down or silent: the group serves nothing (triage's dead site or region).
    public var isDark: Bool { total > 0 && healthy + degraded == 0 }

    /// The worst state present (HEALTHY when empty).
    public var worst: HealthState {
        if down > 0 { return .down }
        if degraded > 0 { return .degraded }
        if stale > 0 { return .stale }
        return .healthy
    }

    public mutating func add(_ state: HealthState) {
        switch state {
        case .healthy: healthy += 1
        case .degraded: degraded += 1
        case .down: down += 1
        case .stale: stale += 1
        }
    }

    public mutating func add(_ other: HealthCounts) {
        healthy += other.healthy; degraded += other.degraded; down += other.down; stale += other.stale
    }

    public subscript(state: HealthState) -> Int {
        get {
            switch state {
            case .healthy: healthy
            case .degraded: degraded
            case .down: down
            case .stale: stale
            }
        }
        set {
            switch state {
            case .healthy: healthy = newValue
            case .degraded: degraded = newValue
            case .down: down = newValue
            case .stale: stale = newValue
            }
        }
    }
}
