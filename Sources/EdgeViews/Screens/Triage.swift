import EdgeCollector
import EdgeCore
import Foundation

/// One thing that needs attention now, for the triage list.
public struct TriageItem: Sendable, Equatable {
    /// What kind of problem, in rank order: a lower raw value is worse.
    public enum Kind: Int, Sendable, Comparable, CaseIterable {
        case fastBurn, regionDown, siteDown, slowBurn, gpuFatal, nodeDown, headroom, gpuThrottle, nodeStale

        /// The word on screen and in JSON.
        public var label: String {
            switch self {
            case .fastBurn: "FAST BURN"
            case .regionDown: "REGION DOWN"
            case .siteDown: "SITE DOWN"
            case .slowBurn: "SLOW BURN"
            case .gpuFatal: "GPU FATAL"
            case .nodeDown: "NODE DOWN"
            case .headroom: "CAPACITY"
            case .gpuThrottle: "GPU HOT"
            case .nodeStale: "STALE"
            }
        }

        public var id: String {
            switch self {
            case .fastBurn: "fast_burn"
            case .regionDown: "region_down"
            case .siteDown: "site_down"
            case .slowBurn: "slow_burn"
            case .gpuFatal: "gpu_fatal"
            case .nodeDown: "node_down"
            case .headroom: "headroom"
            case .gpuThrottle: "gpu_throttle"
            case .nodeStale: "node_stale"
            }
        }

        public static func < (a: Kind, b: Kind) -> Bool { a.rawValue < b.rawValue }
    }

    public var kind: Kind
    /// Stable across snapshots (kind, class and place), so "since" can follow an item.
    public var key: String
    /// The workload class a burn item is about.
    public var workload: WorkloadClass?
    /// Where: "SAF Southern Africa · 23 of 180 sites", "fra1 Frankfurt (WEU)", …
    public var place: String
    /// The same in fewer cells, for narrow screens ("SAF · 23/180 sites").
    public var placeShort: String? = nil
    /// How bad, in a few words: "5m 31× 1h 28×", "12 nodes down", "3% headroom".
    public var howBad: String
    /// Ranks items of one kind, larger is worse: a burn's requests that missed in the short
    /// window (how many users it hurts), a dead cluster's nodes, a node fault's node count,
    /// capacity's negative headroom.
    public var severity: Double
    /// When it began, where the data says (a dead site's last report); the live view fills in
    /// when it first saw the item otherwise.
    public var since: Double?
    /// Where Enter goes.
    public var target: HistoryEntity
    public var tone: Tone
    /// What could be done about it, when edgetop can tell ("move code_completion to lis2: +4 ms").
    public var action: String? = nil
}

/// The thresholds triage applies. Burn thresholds are the SRE workbook's multi-window,
/// multi-burn-rate pair for a 30-day SLO: 14.4× over 1 h and 5 m pages (2 % of the budget in an
/// hour), 6× over 6 h and 30 m tickets (5 % in six hours).
public struct TriageRules: Sendable, Equatable {
    public var fastBurn = 14.4
    public var slowBurn = 6.0
    /// Fewest requests in the short window before a place's burn rate counts: a site that
    /// served 8 requests, one slow, is not burning at 12×.
    public var minRequests: UInt64 = 50
    /// Headroom below this (of serving capacity) is an item: 20 % covers losing one node in
    /// five, the N+1 of a small site.
    public var minHeadroom = 0.2
    public init() {}
}

/// Builds the triage list from one snapshot: one ranked list across the fleet, worst first.
/// Clusters collapse: a dead region is one item, a dead site one item, and node-level faults
/// are one item per region and kind (Enter goes to the region, or to the node when only one).
public enum Triage {
    public static func items(_ snap: FleetSnapshot, rules: TriageRules = TriageRules()) -> [TriageItem] {
        var items: [TriageItem] = []
        let regionName = Dictionary(snap.regions.map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })
        func regionLabel(_ id: String) -> String {
            guard let n = regionName[id], n != id else { return id }
            return "\(id) \(n)"
        }
        func siteLabel(_ s: GroupStatus) -> String { s.name == s.id ? s.id : "\(s.id) \(s.name)" }
        let sitesByRegion = Dictionary(grouping: snap.sites, by: \.region)
        let nodesByRegion = Dictionary(grouping: snap.nodes, by: \.region)

        // Silent clusters first, so their sites and nodes are not listed again below.
        var deadRegions = Set<String>(), deadSites = Set<String>()
        for r in snap.regions where r.health.total > 0 && r.health.healthy + r.health.degraded == 0 {
            deadRegions.insert(r.id)
            let sites = sitesByRegion[r.id]?.count ?? 0
            items.append(TriageItem(kind: .regionDown, key: "region_down/\(r.id)", place: regionLabel(r.id),
                                    howBad: "\(Formatting.count(r.health.total)) nodes, \(sites) sites: \(silence(r.health))",
                                    severity: Double(r.health.total), since: lastHeard(snap, r.health, r.ageS), target: .region(r.id), tone: .down))
        }
        for s in snap.sites where !deadRegions.contains(s.region) && s.health.total > 0 && s.health.healthy + s.health.degraded == 0 {
            deadSites.insert(s.id)
            items.append(TriageItem(kind: .siteDown, key: "site_down/\(s.id)", place: "\(siteLabel(s)) (\(s.region))",
                                    placeShort: "\(s.id) (\(s.region))",
                                    howBad: "\(s.health.total) node\(s.health.total == 1 ? "" : "s"): \(silence(s.health))",
                                    severity: Double(s.health.total), since: lastHeard(snap, s.health, s.ageS), target: .site(s.id), tone: .down))
        }

        // Burn: per region and class, with the region's burning sites collapsed into it.
        let catalog = snap.classCatalog
        for r in snap.regions where !deadRegions.contains(r.id) {
            let sites = (sitesByRegion[r.id] ?? []).filter { !deadSites.contains($0.id) }
            for workload in WorkloadClass.allCases {
                let target = catalog[workload].sloTarget
                for (kind, threshold, short, long) in [(TriageItem.Kind.fastBurn, rules.fastBurn, 0, 2), (.slowBurn, rules.slowBurn, 1, 3)] {
                    /// Burn over the short and long window, and the short window's misses.
                    func burning(_ c: ClassStatus?) -> (Double, Double, Double)? {
                        guard let c, c.windows[short].total >= rules.minRequests else { return nil }
                        let a = c.burnRate(short, target: target), b = c.burnRate(long, target: target)
                        return a > threshold && b > threshold ? (a, b, Double(c.windows[short].total - c.windows[short].good)) : nil
                    }
                    if kind == .slowBurn, items.contains(where: { $0.kind == .fastBurn && $0.key == "fast_burn/\(workload.id)/\(r.id)" }) { continue }
                    let regionBurn = burning(r.classes.first { $0.workload == workload })
                    let hot = sites.compactMap { s -> (GroupStatus, Double, Double, Double)? in
                        burning(s.classes.first { $0.workload == workload }).map { (s, $0.0, $0.1, $0.2) }
                    }.sorted { min($0.1, $0.2) > min($1.1, $1.2) || (min($0.1, $0.2) == min($1.1, $1.2) && $0.0.id < $1.0.id) }
                    guard regionBurn != nil || !hot.isEmpty else { continue }
                    let (a, b) = regionBurn.map { ($0.0, $0.1) } ?? (hot[0].1, hot[0].2)
                    // Ranked by requests that missed in the short window: how many users it hurts.
                    let misses = regionBurn?.2 ?? hot.reduce(0) { $0 + $1.3 }
                    let names = [SLOWindows.names[short], SLOWindows.names[long]]
                    var place: String, short: String?
                    let goTo: HistoryEntity
                    if hot.count == 1 {  // one site burns (and may be all the region's burn)
                        place = "\(siteLabel(hot[0].0)) (\(r.id))"
                        short = "\(hot[0].0.id) (\(r.id))"
                        goTo = .site(hot[0].0.id)
                    } else {
                        var scope: [String] = []
                        if regionBurn != nil { scope.append("region-wide") }
                        if !hot.isEmpty { scope.append("\(hot.count) of \(sites.count) sites") }
                        place = ([regionLabel(r.id)] + scope).joined(separator: " · ")
                        short = ([r.id] + scope.map { $0.replacingOccurrences(of: " of ", with: "/") }).joined(separator: " · ")
                        goTo = .region(r.id)
                    }
                    // Collapsed sites show the worst one's rates.
                    let worstOf = regionBurn == nil && hot.count > 1 ? "worst " : ""
                    let howBad = "\(worstOf)\(names[0]) \(times(a)) \(names[1]) \(times(b))"
                    items.append(TriageItem(kind: kind, key: "\(kind.id)/\(workload.id)/\(r.id)", workload: workload, place: place,
                                            placeShort: short, howBad: howBad, severity: misses, since: nil, target: goTo,
                                            tone: kind == .fastBurn ? .down : .degraded))
                }
            }
        }

        // Node-level faults, one item per region and kind.
        for r in snap.regions where !deadRegions.contains(r.id) {
            let nodes = (nodesByRegion[r.id] ?? []).filter { !deadSites.contains($0.site) }
            var fatal: [NodeStatus] = [], down: [NodeStatus] = [], stale: [NodeStatus] = [], hot: [NodeStatus] = []
            var hotGPUs = 0, hottest = -Double.infinity
            for n in nodes {
                let fatalXid = n.gpus.contains { $0.xid != 0 && Xid.isFatal($0.xid) }
                if fatalXid { fatal.append(n) } else if n.health == .down { down.append(n) } else if n.health == .stale { stale.append(n) }
                let throttling = n.gpus.filter(\.throttled)
                if !throttling.isEmpty, n.health != .stale {
                    hot.append(n)
                    hotGPUs += throttling.count
                    for g in throttling where g.tempC.isFinite { hottest = max(hottest, g.tempC) }
                }
            }
            func add(_ kind: TriageItem.Kind, _ list: [NodeStatus], _ howBad: String, tone: Tone) {
                guard !list.isEmpty else { return }
                let place = list.count == 1 ? "\(list[0].id) (\(list[0].site), \(r.id))" : "\(regionLabel(r.id)) · \(list.count) nodes"
                let short = list.count == 1 ? "\(list[0].id) (\(r.id))" : "\(r.id) · \(list.count) nodes"
                items.append(TriageItem(kind: kind, key: "\(kind.id)/\(r.id)", place: place, placeShort: short, howBad: howBad,
                                        severity: Double(list.count), since: nil,
                                        target: list.count == 1 ? .node(list[0].id) : .region(r.id), tone: tone))
            }
            let xids = Set(fatal.flatMap { $0.gpus.filter { $0.xid != 0 && Xid.isFatal($0.xid) }.map(\.xid) }).sorted()
            add(.gpuFatal, fatal, "Xid " + xids.map { "\($0) \(Xid.describe($0))" }.joined(separator: ", "), tone: .down)
            add(.nodeDown, down, down.count == 1 ? down[0].reason : commonReason(down), tone: .down)
            add(.gpuThrottle, hot, "\(hotGPUs) GPU\(hotGPUs == 1 ? "" : "s") throttling" + (hottest.isFinite ? ", \(Int(hottest))°C" : ""),
                tone: .degraded)
            add(.nodeStale, stale, "no data for up to \(Formatting.age(stale.map(\.ageS).filter(\.isFinite).max() ?? .nan))", tone: .stale)
        }

        // Capacity: regions below the headroom floor, and each region's tight sites as one item.
        for r in snap.regions where !deadRegions.contains(r.id) {
            let tight = (sitesByRegion[r.id] ?? []).filter { !deadSites.contains($0.id) && $0.headroom.isFinite && $0.headroom < rules.minHeadroom }
                .sorted { $0.headroom < $1.headroom || ($0.headroom == $1.headroom && $0.id < $1.id) }
            let regionTight = r.headroom.isFinite && r.headroom < rules.minHeadroom
            guard regionTight || !tight.isEmpty else { continue }
            let place: String, short: String, goTo: HistoryEntity, worst: Double
            if regionTight {
                place = regionLabel(r.id) + " · region-wide"; short = "\(r.id) · region-wide"
                goTo = .region(r.id); worst = r.headroom
            } else if tight.count == 1 {
                place = "\(siteLabel(tight[0])) (\(r.id))"; short = "\(tight[0].id) (\(r.id))"
                goTo = .site(tight[0].id); worst = tight[0].headroom
            } else {
                place = "\(regionLabel(r.id)) · \(tight.count) sites"; short = "\(r.id) · \(tight.count) sites"
                goTo = .region(r.id); worst = tight[0].headroom
            }
            let at = regionTight || tight.count == 1 ? "" : " at \(tight[0].id)"
            // The worst site's heaviest class that could move, and where.
            let moves = tight.isEmpty ? [] : Capacity.moves(snap, floor: rules.minHeadroom, sites: [tight[0].id])
            let action = moves.max { $0.rps < $1.rps }.map { m in
                "move \(m.workload.id) (\(Formatting.rate(m.rps)) req/s) from \(m.site) to \(m.to): +\(Formatting.msUnit(m.addedMs)), "
                    + "p99 ≈\(Formatting.msUnit(m.expectedP99Ms)), \(m.to) keeps \(Formatting.pct(m.toHeadroomAfter * 100))% headroom"
            } ?? (tight.isEmpty ? nil : "no site nearby can take \(tight[0].id)'s classes within their tiers")
            items.append(TriageItem(kind: .headroom, key: "headroom/\(r.id)", place: place, placeShort: short,
                                    howBad: "\(Formatting.pct(worst * 100))% headroom\(at) (floor \(Formatting.pct(rules.minHeadroom * 100))%)",
                                    severity: -worst, since: nil, target: goTo, tone: worst < 0 ? .down : .degraded, action: action))
        }

        return items.sorted { a, b in
            if a.kind != b.kind { return a.kind < b.kind }
            if a.severity != b.severity { return a.severity > b.severity }
            return a.key < b.key
        }
    }

    /// The fleet's budget per class when nothing burns: what the empty triage says.
    public static func budgets(_ snap: FleetSnapshot) -> [(WorkloadClass, Double, Double)] {
        snap.fleet.classes.filter { $0.requests > 0 }.map { c in
            let target = snap.classCatalog[c.workload].sloTarget
            return (c.workload, c.windows[2].goodFraction, c.budgetRemaining(target: target))
        }
    }

    /// "12×", "3.4×", "0.8×".
    static func times(_ v: Double) -> String {
        guard v.isFinite else { return "-" }
        return (v >= 10 ? String(Int(v.rounded())) : Formatting.fixed(v, 1)) + "×"
    }

    static func silence(_ h: HealthCounts) -> String {
        [(h.down, "down"), (h.stale, "stale")].filter { $0.0 > 0 }.map { "\($0.0) \($0.1)" }.joined(separator: ", ")
    }

    /// When a silent cluster was last heard from (the snapshot time minus its oldest age); nil
    /// when some node still reports (it says DOWN, and not since when).
    static func lastHeard(_ snap: FleetSnapshot, _ h: HealthCounts, _ age: Double) -> Double? {
        h.stale == h.total && age.isFinite ? snap.time - age : nil
    }

    /// The reason most of the nodes share, with how many.
    static func commonReason(_ nodes: [NodeStatus]) -> String {
        var counts: [String: Int] = [:]
        for n in nodes { counts[n.reason.isEmpty ? "down" : n.reason, default: 0] += 1 }
        let top = counts.sorted { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }
        return top.prefix(2).map { "\($0.value)× \($0.key)" }.joined(separator: ", ")
    }
}

/// The last triage list, keyed by the snapshot, and when each item was first seen this session.
final class TriageCache: @unchecked Sendable {
    private let lock = NSLock()
    private var key: (UInt64, Double)?
    private var items: [TriageItem] = []
    private var firstSeen: [String: Double] = [:]

    func items(_ snap: FleetSnapshot) -> [TriageItem] {
        let k = (snap.id, snap.time)
        lock.lock()
        defer { lock.unlock() }
        if let key, key == k { return items }
        var built = Triage.items(snap)
        var seen: [String: Double] = [:]
        for i in built.indices {
            let first = min(firstSeen[built[i].key] ?? snap.time, built[i].since ?? .infinity)
            seen[built[i].key] = first
            built[i].since = first
        }
        firstSeen = seen  // an item that went away starts afresh when it comes back
        key = k; items = built
        return built
    }
}
