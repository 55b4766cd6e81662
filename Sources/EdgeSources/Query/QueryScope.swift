/// What one refresh of the query backend reads, by what the operator is looking at. Rows of
/// groups (fleet, regions, sites) come from aggregates (`sum by (region, le)`, `count by
/// (region, site, state)`, or the recording rules of `deploy/rules.yml` when Prometheus has
/// them); per-node series are read only for the nodes on screen and for the exceptions (nodes
/// not HEALTHY, GPUs throttling or with an Xid), so triage still sees every fault.
public enum QueryScope: Sendable, Hashable, CustomStringConvertible {
    /// Every node's series, as a headless `--view nodes` of the whole fleet needs.
    case everything
    /// Triage, the fleet and the map: regions in full, sites' health, the exceptions.
    case fleet
    /// The list of every site (`a`): the fleet, plus every site's latency and GPU figures.
    case allSites
    /// One region's sites in full.
    case region(String)
    /// One site's nodes in full.
    case site(String)
    /// One node in full.
    case node(String)

    /// The level's name, for the bench and the status line.
    public var level: String {
        switch self {
        case .everything: "every node"
        case .fleet: "fleet"
        case .allSites: "all sites"
        case .region: "region"
        case .site: "site"
        case .node: "node"
        }
    }

    public var description: String {
        switch self {
        case .everything, .fleet, .allSites: level
        case .region(let id), .site(let id), .node(let id): "\(level) \(id)"
        }
    }
}

/// What one refresh cost: queries sent and series read back, at which scope.
public struct QueryCost: Sendable, Equatable {
    public var scope: QueryScope
    public var queries = 0
    public var series = 0
    /// Whether the group rows came from the recording rules.
    public var rules = false
    public init(scope: QueryScope) { self.scope = scope }
}
