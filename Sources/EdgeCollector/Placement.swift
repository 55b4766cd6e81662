import EdgeCore

/// Where a node sits in the fleet, as a source knows it. Registering a placement with the
/// collector returns the `NodeRef` its samples carry.
public struct NodePlacement: Sendable, Hashable {
    public var regionID: String
    public var regionName: String
    public var siteID: String
    public var siteName: String
    public var country: String
    public var latitude: Double
    public var longitude: Double
    public var nodeID: String
    /// The p99 the node is held to, in milliseconds (its latency tier).
    public var tierMs: Double
    /// GPUs the node is expected to have (more are added when samples name them).
    public var gpuCount: Int
    /// The workload class the node is deployed for (its capacity is counted in it);
    /// `unclassified` when no source said.
    public var workload: WorkloadClass = .unclassified

    public init(regionID: String, regionName: String? = nil, siteID: String, siteName: String? = nil,
                country: String = "", latitude: Double = .nan, longitude: Double = .nan,
                nodeID: String, tierMs: Double = LatencyTierDefaults.unknownNodeTierMs, gpuCount: Int = 0,
                workload: WorkloadClass = .unclassified) {
        self.workload = workload
        self.regionID = regionID; self.regionName = regionName ?? regionID
        self.siteID = siteID; self.siteName = siteName ?? siteID
        self.country = country; self.latitude = latitude; self.longitude = longitude
        self.nodeID = nodeID; self.tierMs = tierMs; self.gpuCount = gpuCount
    }
}

public enum LatencyTierDefaults {
    /// Tier for nodes a source creates without saying (replay, scrapes): customer service.
    public static let unknownNodeTierMs: Double = 500
}

/// Settings of the collector.
public struct CollectorConfig: Sendable {
    /// Sliding window length for latency, rates and recent events, seconds.
    public var windowSeconds: Double
    /// The window is a ring of this many sub-windows; old samples leave a whole sub-window at
    /// a time, so the window covers between (n-1)/n and n/n of `windowSeconds`.
    public var subWindows: Int
    /// How often a healthy node is expected to report, seconds. No sample for three intervals
    /// makes it STALE.
    public var intervalSeconds: Double
    /// Fewest latency samples in the window before p99 may mark a node DEGRADED (avoids
    /// flapping on a handful of requests).
    public var minSamplesForTier: UInt64
    /// Error ratio (errors / requests in the window) above which a node is DEGRADED.
    public var maxErrorRatio: Double
    /// GPU temperature at which a GPU counts as thermally throttled, °C.
    public var thermalLimitC: Double
    /// How much history each entity keeps (1 s and 1 min rings).
    public var history: HistoryConfig
    /// Workload classes: tiers, SLO targets, per-GPU capacity.
    public var classes: ClassCatalog = .standard
    /// Tests only: judge every node at every history step, even a quiet one, as the reference
    /// the quiet-node shortcut is checked against.
    public var historyWalksQuietNodes = false

    public init(windowSeconds: Double = 60, subWindows: Int = 6, intervalSeconds: Double = 1,
                minSamplesForTier: UInt64 = 20, maxErrorRatio: Double = 0.05, thermalLimitC: Double = 87,
                history: HistoryConfig = HistoryConfig(), classes: ClassCatalog = .standard) {
        self.history = history
        self.classes = classes
        self.windowSeconds = windowSeconds; self.subWindows = Swift.max(2, subWindows)
        self.intervalSeconds = intervalSeconds; self.minSamplesForTier = minSamplesForTier
        self.maxErrorRatio = maxErrorRatio; self.thermalLimitC = thermalLimitC
    }

    public var staleAfterSeconds: Double { 3 * intervalSeconds }
    public var subWindowSeconds: Double { windowSeconds / Double(subWindows) }
}
