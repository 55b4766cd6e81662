import EdgeCore

/// One GPU as the operator sees it.
public struct GPUStatus: Sendable, Equatable {
    public var index: Int
    public var utilPct: Double
    public var tempC: Double
    public var memUsedMiB: Double
    public var memTotalMiB: Double
    public var powerW: Double
    /// Last Xid code seen within the window (0: none).
    public var xid: Int
    /// Thermal throttling (reason bits or temperature at the limit).
    public var throttled: Bool
    /// Seconds since this GPU last reported (NaN: never).
    public var ageS: Double
    /// The source whose gauges these are ("" before any).
    public var source: String = ""
}

/// One source's latency for a node that several sources report (`NodeStatus.latencySources`).
public struct LatencySourceStatus: Sendable, Equatable {
    public var source: String
    /// The configured service ("" unless declared).
    public var service: String
    public var latency: LatencySummary
    public var errors: UInt64
    /// Whether these figures are the node's (the most exact of its service); the others are
    /// shown, never added.
    public var used: Bool
}

/// Upper bounds (ms) of the latency distribution bins kept per node: tier-aligned, last is +∞.
public enum LatencyBins {
    public static let upperBoundsMs: [Double] = [5, 10, 25, 50, 100, 200, 300, 500, 1000, 2000, 5000, .infinity]
}

/// The cumulative buckets `edgetop serve` exports (Prometheus `le`, inclusive): bounds on the
/// latency tiers and on "users notice" (300 ms), so the fraction of requests under a tier stays
/// exact after any aggregation.
public enum TierBuckets {
    public static let upperBoundsMs: [Double] = [5, 10, 25, 50, 100, 200, 300, 500, 1000, 2000, 5000, 10_000, .infinity]

    /// Index of the first bucket whose bound is ≥ `ms` (`le` semantics).
    @inline(__always)
    public static func index(_ ms: Double) -> Int {
        var lo = 0, hi = upperBoundsMs.count - 1
        while lo < hi {
            let mid = (lo + hi) / 2
            if ms <= upperBoundsMs[mid] { hi = mid } else { lo = mid + 1 }
        }
        return lo
    }
}

/// One workload class at a node or group: its requests over the window, how many met the
/// class's tier (counted exactly at record time), and the SLO counts of the burn-rate windows.
public struct ClassStatus: Sendable, Equatable {
    public var workload: WorkloadClass
    /// Latency over the window, from the class's own merged histogram.
    public var latency: LatencySummary
    public var errors: UInt64
    /// Requests within the class's tier over the window.
    public var good: UInt64
    public var windows: SLOWindows
    public init(workload: WorkloadClass, latency: LatencySummary = .empty, errors: UInt64 = 0, good: UInt64 = 0,
                windows: SLOWindows = SLOWindows()) {
        self.workload = workload; self.latency = latency; self.errors = errors; self.good = good; self.windows = windows
    }
    /// Requests over the window (failed ones included).
    public var requests: UInt64 { UInt64(latency.count) &+ errors }
    /// Fraction of the window's requests served within the tier (failures are misses); NaN with none.
    public var withinTierFraction: Double { requests > 0 ? Double(good) / Double(requests) : .nan }
    /// Burn rate over window `i` of `SLOWindows.names` against `target`.
    public func burnRate(_ i: Int, target: Double) -> Double { windows[i].burnRate(target: target) }
    /// Error budget left over the longest window held (6 h): 1 − spent; negative when overspent.
    public func budgetRemaining(target: Double) -> Double {
        let b = windows[3].burnRate(target: target)
        return b.isFinite ? 1 - b : .nan
    }
}

/// One node: health with its reason, latency over the window, GPUs.
public struct NodeStatus: Sendable, Equatable {
    public var id: String
    public var site: String
    public var region: String
    public var health: HealthState
    /// Why the node is not HEALTHY, in a few words ("" when healthy).
    public var reason: String
    /// The kind of that reason, a stable id for machines ("" when healthy): unreachable,
    /// xid_fatal, no_data, silent, gpu_throttling, xid, errors, p99_over_tier, or reported (a
    /// state judged upstream).
    public var cause: String = ""
    public var tierMs: Double
    public var latency: LatencySummary
    /// Request counts per `LatencyBins` bin over the window.
    public var distribution: [UInt64]
    public var rps: Double
    public var errorRatio: Double
    public var gpuUtilPct: Double
    public var gpuTempMaxC: Double
    public var gpuMemUsedMiB: Double
    public var gpuMemTotalMiB: Double
    /// Seconds since the node's last sample (NaN: never reported).
    public var ageS: Double
    public var gpus: [GPUStatus]
    /// Host load average and memory in use, from node_exporter (NaN without it).
    public var load1: Double = .nan
    public var memUsedPct: Double = .nan
    /// Inference server queue (vLLM): requests running and waiting (NaN without it).
    public var requestsRunning: Double = .nan
    public var requestsWaiting: Double = .nan
    /// Requests since start per `TierBuckets` bucket (not cumulative across buckets), their
    /// count and sum, and errors since start: monotonic counters for Prometheus.
    public var tierCounts: [UInt64] = []
    public var requestsTotal: UInt64 = 0
    public var latencySumMs: Double = 0
    public var errorsTotal: UInt64 = 0
    /// The source whose latency and errors these are ("" with no latency data).
    public var latencySource: String = ""
    /// Every source's own latency for this node when more than one reports it (empty otherwise).
    public var latencySources: [LatencySourceStatus] = []
    /// The workload classes the node served in the window, by class (empty: no requests).
    public var classes: [ClassStatus] = []
    /// The class the node is deployed for (its placement), or its busiest class.
    public var workload: WorkloadClass = .unclassified
    /// Requests per second the node's GPUs can serve in its class (NaN: no GPUs known).
    public var capacityRps: Double = .nan

    /// Shared empty tier counters, so nodes without latency allocate none.
    static let noTierCounts = [UInt64](repeating: 0, count: TierBuckets.upperBoundsMs.count)
}

extension NodeStatus {
    /// What a `cause` id says to an operator ("p99 over its tier"); nil for an unknown id.
    public static func phrase(cause: String) -> String? { HealthRules.Verdict.phrase(cause) }
}

/// What kind of group a `GroupStatus` summarises.
public enum GroupKind: String, Sendable { case fleet, region, site }

/// A fleet, region or site: counts per health state and latency from merged histograms.
public struct GroupStatus: Sendable, Equatable {
    public var kind: GroupKind
    public var id: String
    public var name: String
    /// Parent region for sites; "" otherwise.
    public var region: String
    public var country: String
    public var health: HealthCounts
    public var latency: LatencySummary
    public var rps: Double
    public var errorRatio: Double
    /// Mean utilisation over the GPUs that reported.
    public var gpuUtilPct: Double
    public var gpuTempMaxC: Double
    public var gpuCount: Int
    /// Oldest data age among the group's nodes, seconds (NaN: none reported).
    public var ageS: Double
    /// Tightest latency tier among the group's nodes, ms.
    public var tierMs: Double
    /// Per workload class, merged from the nodes' (histograms merged, counts summed), by class.
    public var classes: [ClassStatus] = []
    /// Serving capacity of the group's nodes that are up, requests per second (NaN: unknown).
    public var capacityRps: Double = .nan
    /// A site's location (degrees; NaN where unknown, and for regions and the fleet).
    public var latitude: Double = .nan
    public var longitude: Double = .nan
    public var nodeCount: Int { health.total }

    public init(kind: GroupKind, id: String, name: String, region: String, country: String, health: HealthCounts,
                latency: LatencySummary, rps: Double, errorRatio: Double, gpuUtilPct: Double, gpuTempMaxC: Double,
                gpuCount: Int, ageS: Double, tierMs: Double, capacityRps: Double = .nan) {
        self.capacityRps = capacityRps
        self.kind = kind; self.id = id; self.name = name; self.region = region; self.country = country
        self.health = health; self.latency = latency; self.rps = rps; self.errorRatio = errorRatio
        self.gpuUtilPct = gpuUtilPct; self.gpuTempMaxC = gpuTempMaxC; self.gpuCount = gpuCount; self.ageS = ageS
        self.tierMs = tierMs
    }
    /// Capacity not in use: 1 − rps / capacity (NaN without a capacity).
    public var headroom: Double { capacityRps > 0 ? 1 - rps / capacityRps : .nan }
}

/// Which nodes a snapshot lists.
public enum NodeCoverage: Sendable, Equatable {
    /// Every node the groups count.
    case all
    /// The nodes that are not HEALTHY (or have a throttling GPU or an Xid), plus every node of
    /// `site` and the node `node` when given: group rows still count every node.
    case partial(site: String?, node: String?)

    /// Whether every node of `site` is listed.
    public func lists(site: String) -> Bool {
        switch self {
        case .all: true
        case .partial(let s, _): s == site
        }
    }
}

/// Counters of the ingest path, cumulative since start.
public struct IngestStats: Sendable, Equatable {
    public var samples: UInt64 = 0
    public var invalid: UInt64 = 0
    public init(samples: UInt64 = 0, invalid: UInt64 = 0) { self.samples = samples; self.invalid = invalid }
}

/// An immutable picture of the whole fleet at one instant. Regions are in id order, sites in
/// (region, id) order, nodes in (site, id) order; views sort as they need.
public struct FleetSnapshot: Sendable {
    /// Distinct per snapshot a collector makes (views cache what they derive from it).
    public var id: UInt64 = 0
    /// Snapshot time, seconds since the Unix epoch.
    public var time: Double
    public var windowSeconds: Double
    public var fleet: GroupStatus
    public var regions: [GroupStatus]
    public var sites: [GroupStatus]
    public var nodes: [NodeStatus]
    public var ingest: IngestStats
    /// The fleet's merged latency histogram over the window.
    public var fleetHistogram: CompactHistogram
    /// The classes' tiers and SLO targets the figures were judged against.
    public var classCatalog: ClassCatalog = .standard
    /// Which nodes `nodes` lists: every node of the groups, or (the query backend's scoped
    /// refreshes) only the exceptions and the site or node on screen.
    public var nodeCoverage: NodeCoverage = .all

    public init(time: Double, windowSeconds: Double, fleet: GroupStatus, regions: [GroupStatus],
                sites: [GroupStatus], nodes: [NodeStatus], ingest: IngestStats, fleetHistogram: CompactHistogram) {
        self.time = time; self.windowSeconds = windowSeconds; self.fleet = fleet; self.regions = regions
        self.sites = sites; self.nodes = nodes; self.ingest = ingest; self.fleetHistogram = fleetHistogram
    }
}
