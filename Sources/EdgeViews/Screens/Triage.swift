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
        // Indices, not copies: a NodeStatus or GroupStatus copy retains a dozen references, and
        // this runs on every refresh over 4,400 sites and 9,625 nodes.
        var items: [TriageItem] = []
        let regionName = Dictionary(snap.regions.map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })
        func regionLabel(_ id: String) -> String {
            guard let n = regionName[id], n != id else { return id }
            return "\(id) \(n)"
        }
        func siteLabel(_ i: Int) -> String {
            let s = snap.sites[i]
            return s.name == s.id ? s.id : "\(s.id) \(s.name)"
        }
        var sitesOf: [String: [Int]] = [:], nodesOf: [String: [Int]] = [:]
        for i in snap.sites.indices { sitesOf[snap.sites[i].region, default: []].append(i) }
        for i in snap.nodes.indices { nodesOf[snap.nodes[i].region, default: []].append(i) }

        // Silent clusters first, so their sites and nodes are not listed again below.
        var deadRegions = Set<String>(), deadSites = Set<String>()
        for r in snap.regions where r.health.isDark {
            deadRegions.insert(r.id)
            let sites = sitesOf[r.id]?.count ?? 0
            items.append(TriageItem(kind: .regionDown, key: "region_down/\(r.id)", place: regionLabel(r.id),
                                    howBad: "\(Formatting.count(r.health.total)) nodes, \(sites) sites: \(silence(r.health))",
                                    severity: Double(r.health.total), since: lastHeard(snap, r.health, r.ageS), target: .region(r.id), tone: .down))
        }
        for i in snap.sites.indices {
            let h = snap.sites[i].health, region = snap.sites[i].region, id = snap.sites[i].id
            guard !deadRegions.contains(region), h.isDark else { continue }
            deadSites.insert(id)
            items.append(TriageItem(kind: .siteDown, key: "site_down/\(id)", place: "\(siteLabel(i)) (\(region))",
                                    placeShort: "\(id) (\(region))",
                                    howBad: "\(h.total) node\(h.total == 1 ? "" : "s"): \(silence(h))",
                                    severity: Double(h.total), since: lastHeard(snap, h, snap.sites[i].ageS), target: .site(id), tone: .down))
        }

        // Burn: per region and class, with the region's burning sites collapsed into it.
        let catalog = snap.classCatalog
        let alerts: [(kind: TriageItem.Kind, fast: Bool)] = [(.fastBurn, true), (.slowBurn, false)]
        for r in snap.regions where !deadRegions.contains(r.id) {
            let sites = (sitesOf[r.id] ?? []).filter { !deadSites.contains(snap.sites[$0].id) }
            // Burning sites by (class, alert), in one pass over the region's sites.
            var hot: [Int: [(site: Int, a: Double, b: Double, misses: Double)]] = [:]
            for i in sites {
                for c in snap.sites[i].classes {
                    for k in alerts.indices {
                        if let x = Self.burning(c, catalog: catalog, rules: rules, fast: alerts[k].fast) {
                            hot[Int(c.workload.rawValue) * 2 + k, default: []].append((i, x.a, x.b, x.misses))
                        }
                    }
                }
            }
            var burningFast = Set<WorkloadClass>()  // a fast burn is not listed again as a slow one
            for workload in WorkloadClass.allCases {
                let regionClass = r.classes.first { $0.workload == workload }
                for k in alerts.indices {
                    let (kind, fast) = alerts[k]
                    if !fast && burningFast.contains(workload) { continue }
                    let regionBurn = regionClass.flatMap { Self.burning($0, catalog: catalog, rules: rules, fast: fast) }
                    let burningSites = (hot[Int(workload.rawValue) * 2 + k] ?? []).sorted {
                        min($0.a, $0.b) > min($1.a, $1.b) || (min($0.a, $0.b) == min($1.a, $1.b) && snap.sites[$0.site].id < snap.sites[$1.site].id)
                    }
                    guard regionBurn != nil || !burningSites.isEmpty else { continue }
                    let (a, b) = regionBurn.map { ($0.a, $0.b) } ?? (burningSites[0].a, burningSites[0].b)
                    // Ranked by requests that missed in the short window: how many users it hurts.
                    let misses = regionBurn?.misses ?? burningSites.reduce(0) { $0 + $1.misses }
                    var place: String, short: String?
                    let goTo: HistoryEntity
                    if burningSites.count == 1 {  // one site burns (and may be all the region's burn)
                        let id = snap.sites[burningSites[0].site].id
                        place = "\(siteLabel(burningSites[0].site)) (\(r.id))"
                        short = "\(id) (\(r.id))"
                        goTo = .site(id)
                    } else {
                        var scope: [String] = []
                        if regionBurn != nil { scope.append("region-wide") }
                        if !burningSites.isEmpty { scope.append("\(burningSites.count) of \(sites.count) sites") }
                        place = ([regionLabel(r.id)] + scope).joined(separator: " · ")
                        short = ([r.id] + scope.map { $0.replacingOccurrences(of: " of ", with: "/") }).joined(separator: " · ")
                        goTo = .region(r.id)
                    }
                    if fast { burningFast.insert(workload) }
                    let windows = Self.alertWindows(fast: fast)
                    // Collapsed sites show the worst one's rates.
                    let worstOf = regionBurn == nil && burningSites.count > 1 ? "worst " : ""
                    let howBad = "\(worstOf)\(SLOWindows.names[windows.short]) \(times(a)) \(SLOWindows.names[windows.long]) \(times(b))"
                    items.append(TriageItem(kind: kind, key: "\(kind.id)/\(workload.id)/\(r.id)", workload: workload, place: place,
                                            placeShort: short, howBad: howBad, severity: misses, since: nil, target: goTo,
                                            tone: kind == .fastBurn ? .down : .degraded))
                }
            }
        }

        // Node-level faults, one item per region and kind.
        for r in snap.regions where !deadRegions.contains(r.id) {
            var fatal: [Int] = [], down: [Int] = [], stale: [Int] = [], hot: [Int] = []
            var hotGPUs = 0, hottest = -Double.infinity
            var xids = Set<Int>()
            for i in nodesOf[r.id] ?? [] where !deadSites.contains(snap.nodes[i].site) {
                var fatalXid = false, throttling = 0
                for g in snap.nodes[i].gpus {
                    if g.xid != 0 && Xid.isFatal(g.xid) { fatalXid = true; xids.insert(g.xid) }
                    if g.throttled {
                        throttling += 1
                        if g.tempC.isFinite { hottest = max(hottest, g.tempC) }
                    }
                }
                let health = snap.nodes[i].health
                if fatalXid { fatal.append(i) } else if health == .down { down.append(i) } else if health == .stale { stale.append(i) }
                if throttling > 0, health != .stale { hot.append(i); hotGPUs += throttling }
            }
            func add(_ kind: TriageItem.Kind, _ list: [Int], _ howBad: String, tone: Tone) {
                guard let first = list.first else { return }
                let n = snap.nodes[first]
                let place = list.count == 1 ? "\(n.id) (\(n.site), \(r.id))" : "\(regionLabel(r.id)) · \(list.count) nodes"
                let short = list.count == 1 ? "\(n.id) (\(r.id))" : "\(r.id) · \(list.count) nodes"
                items.append(TriageItem(kind: kind, key: "\(kind.id)/\(r.id)", place: place, placeShort: short, howBad: howBad,
                                        severity: Double(list.count), since: nil,
                                        target: list.count == 1 ? .node(n.id) : .region(r.id), tone: tone))
            }
            add(.gpuFatal, fatal, "Xid " + xids.sorted().map { "\($0) \(Xid.describe($0))" }.joined(separator: ", "), tone: .down)
            add(.nodeDown, down, down.count == 1 ? snap.nodes[down[0]].reason : commonReason(down.map { snap.nodes[$0].reason }), tone: .down)
            add(.gpuThrottle, hot, "\(hotGPUs) GPU\(hotGPUs == 1 ? "" : "s") throttling" + (hottest.isFinite ? ", \(Int(hottest))°C" : ""),
                tone: .degraded)
            add(.nodeStale, stale, "no data for up to \(Formatting.age(stale.map { snap.nodes[$0].ageS }.filter(\.isFinite).max() ?? .nan))",
                tone: .stale)
        }

        // Capacity: regions below the headroom floor, and each region's tight sites as one item,
        // with a move for the tightest (one search for all of them).
        var tightOf: [String: [Int]] = [:]
        for r in snap.regions where !deadRegions.contains(r.id) {
            tightOf[r.id] = (sitesOf[r.id] ?? []).filter {
                let s = snap.sites[$0].headroom
                return s.isFinite && s < rules.minHeadroom && !deadSites.contains(snap.sites[$0].id)
            }.sorted {
                let a = snap.sites[$0].headroom, b = snap.sites[$1].headroom
                return a < b || (a == b && snap.sites[$0].id < snap.sites[$1].id)
            }
        }
        let tightest = Set(tightOf.values.compactMap { $0.first.map { snap.sites[$0].id } })
        let movesBySite = Dictionary(grouping: tightest.isEmpty ? [] : Capacity.moves(snap, floor: rules.minHeadroom, sites: tightest), by: \.site)
        for r in snap.regions where !deadRegions.contains(r.id) {
            let tight = tightOf[r.id] ?? []
            let regionTight = r.headroom.isFinite && r.headroom < rules.minHeadroom
            guard regionTight || !tight.isEmpty else { continue }
            let worstID = tight.first.map { snap.sites[$0].id } ?? ""
            let place: String, short: String, goTo: HistoryEntity, worst: Double
            if regionTight {
                place = regionLabel(r.id) + " · region-wide"; short = "\(r.id) · region-wide"
                goTo = .region(r.id); worst = r.headroom
            } else if tight.count == 1 {
                place = "\(siteLabel(tight[0])) (\(r.id))"; short = "\(worstID) (\(r.id))"
                goTo = .site(worstID); worst = snap.sites[tight[0]].headroom
            } else {
                place = "\(regionLabel(r.id)) · \(tight.count) sites"; short = "\(r.id) · \(tight.count) sites"
                goTo = .region(r.id); worst = snap.sites[tight[0]].headroom
            }
            let at = regionTight || tight.count == 1 ? "" : " at \(worstID)"
            // The worst site's heaviest class that could move, and where.
            let action = (movesBySite[worstID] ?? []).max { $0.rps < $1.rps }.map { m in
                "move \(m.workload.id) (\(Formatting.rate(m.rps)) req/s) from \(m.site) to \(m.to): +\(Formatting.msUnit(m.addedMs)), "
                    + "p99 ≈\(Formatting.msUnit(m.expectedP99Ms)), \(m.to) keeps \(Formatting.pct(m.toHeadroomAfter * 100))% headroom"
            } ?? (tight.isEmpty ? nil : "no site nearby can take \(worstID)'s classes within their tiers")
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

    /// A class's burn over the alert's short and long windows (fast: 5 m and 1 h over 14.4×;
    /// slow: 30 m and 6 h over 6×) and the short window's misses, when both are over and the
    /// short window holds enough requests to judge; else nil.
    public static func burning(_ c: ClassStatus, catalog: ClassCatalog, rules: TriageRules = TriageRules(),
                               fast: Bool) -> (a: Double, b: Double, misses: Double)? {
        let threshold = fast ? rules.fastBurn : rules.slowBurn
        let (short, long) = alertWindows(fast: fast)
        guard c.windows[short].total >= rules.minRequests else { return nil }
        let target = catalog[c.workload].sloTarget
        let a = c.burnRate(short, target: target), b = c.burnRate(long, target: target)
        return a > threshold && b > threshold ? (a, b, Double(c.windows[short].total - c.windows[short].good)) : nil
    }

    /// The short and long window of an alert, as indices of `SLOWindows.names`: fast 5 m and
    /// 1 h, slow 30 m and 6 h.
    static func alertWindows(fast: Bool) -> (short: Int, long: Int) { fast ? (0, 2) : (1, 3) }

    public static func isBurning(_ c: ClassStatus, catalog: ClassCatalog, rules: TriageRules = TriageRules(), fast: Bool) -> Bool {
        burning(c, catalog: catalog, rules: rules, fast: fast) != nil
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
    static func commonReason(_ reasons: [String]) -> String {
        var counts: [String: Int] = [:]
        for r in reasons { counts[r.isEmpty ? "down" : r, default: 0] += 1 }
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
