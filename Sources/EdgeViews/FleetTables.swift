import EdgeCollector
import EdgeCore

/// Which entities a table lists.
public enum RowKind: String, Sendable, CaseIterable {
    case fleet, regions, sites, nodes, gpus
    /// The triage list: what needs attention, worst first.
    case triage
    /// Serving capacity per country (data residency), least headroom first.
    case capacity
}

/// Which part of the fleet a view covers (`--region`, `--site`, `--node`).
public struct Scope: Sendable, Equatable {
    public var region: String?
    public var site: String?
    public var node: String?
    public init(region: String? = nil, site: String? = nil, node: String? = nil) {
        self.region = region; self.site = site; self.node = node
    }
    public var isEmpty: Bool { region == nil && site == nil && node == nil }

    /// Whether node `n` lies within the scope.
    public func includes(_ n: NodeStatus) -> Bool {
        (region == nil || n.region == region) && (site == nil || n.site == site) && (node == nil || n.id == node)
    }

    /// The site of the scope's node, when it names one the snapshot has.
    public func nodeSite(in snap: FleetSnapshot) -> String? {
        node.flatMap { n in snap.nodes.first { $0.id == n }?.site }
    }

    /// Whether site `g` lies within the scope; `nodeSite` is `nodeSite(in:)`, read once for
    /// all the sites.
    public func includes(site g: GroupStatus, nodeSite: String?) -> Bool {
        (region == nil || g.region == region) && (site == nil || g.id == site) && (nodeSite == nil || g.id == nodeSite)
    }
}

/// Sort orders; `health` is worst-first: down, then degraded, then stale, then by p99.
public enum SortKey: String, Sendable, CaseIterable {
    case health, p99, p50, gpu, temp, rps, age, name

    /// The next key in the `s` cycle.
    public var next: SortKey {
        let all = SortKey.allCases
        return all[(all.firstIndex(of: self)! + 1) % all.count]
    }
}

/// Builds the tables shared by the TUI and the headless snapshot from one snapshot.
public enum FleetTables {
    static let groupColumns = [
        Column("NAME", 16, right: false, flexible: true, maxWidth: 36), Column("NODES", 5), Column("HEALTH", 15, right: false),
        Column("GPU%", 4), Column("TEMP", 4), Column("RPS", 6), Column("P50", 6), Column("P99", 6),
        Column("AGE", 4), Column("TIER", 7, right: false, minScreenWidth: 100),
        Column("GPUS", 5, minScreenWidth: 110), Column("ERR%", 5, minScreenWidth: 120),
        Column("WORST SLO", 13, right: false, minScreenWidth: 120), Column("BURN", 5, minScreenWidth: 120),
        Column("HEAD", 5, minScreenWidth: 140),
    ]
    static let nodeColumns = [
        Column("NAME", 12, right: false, flexible: true, maxWidth: 16), Column("HEALTH", 8, right: false),
        Column("GPUS", 4, minScreenWidth: 100),
        Column("GPU%", 4), Column("TEMP", 4), Column("RPS", 6), Column("P50", 6), Column("P99", 6),
        Column("AGE", 4), Column("REASON", 10, right: false, flexible: true, maxWidth: 200),
    ]
    static let triageColumns = [
        Column("WHAT", 11, right: false), Column("CLASS", 18, right: false), Column("WHERE", 20, right: false, flexible: true, maxWidth: 48),
        Column("HOW BAD", 16, right: false, flexible: true, maxWidth: 40), Column("FOR", 5),
    ]
    static let countryColumns = [
        Column("COUNTRY", 7, right: false), Column("SITES", 5), Column("NODES", 6), Column("GPUS", 6),
        Column("CAPACITY", 8), Column("RPS", 7), Column("HEAD", 5), Column("TIGHT", 5),
    ]
    static let gpuColumns = [
        Column("NAME", 10, right: false, flexible: true, maxWidth: 24), Column("HEALTH", 10, right: false), Column("GPU%", 4),
        Column("TEMP", 4), Column("MEM", 6), Column("MEM%", 4), Column("POWER", 5), Column("XID", 20, right: false, flexible: true, maxWidth: 40),
        Column("AGE", 4),
    ]

    /// The table of `kind` rows within `scope`, filtered by substring and sorted.
    public static func table(_ snap: FleetSnapshot, kind: RowKind, scope: Scope = Scope(), sort: SortKey = .health,
                             reversed: Bool = false, filter: String = "") -> TableModel {
        let needle = filter.lowercased()
        func keep(_ id: String, _ name: String) -> Bool {
            needle.isEmpty || id.lowercased().contains(needle) || name.lowercased().contains(needle)
        }
        switch kind {
        case .fleet, .regions, .sites:
            // Indices are filtered and sorted; each row is copied once, into its table row.
            let groups = kind == .fleet ? [snap.fleet] : kind == .regions ? snap.regions : snap.sites
            let nodeSite = kind == .sites ? scope.nodeSite(in: snap) : nil
            let chosen = groups.indices.filter { i in
                let g = groups[i]
                let inScope = switch kind {
                case .fleet: true
                case .regions: scope.region == nil || g.id == scope.region
                default: scope.includes(site: g, nodeSite: nodeSite)
                }
                return inScope && keep(g.id, g.name)
            }
            let rows = order(groups, chosen, by: sort, reversed: reversed).map { groupRow(groups[$0], snap.classCatalog) }
            return TableModel(kind: kind, columns: groupColumns, rows: rows)
        case .nodes:
            let chosen = snap.nodes.indices.filter { scope.includes(snap.nodes[$0]) && keep(snap.nodes[$0].id, snap.nodes[$0].reason) }
            let rows = order(snap.nodes, chosen, by: sort, reversed: reversed).map { nodeRow(snap.nodes[$0]) }
            return TableModel(kind: kind, columns: nodeColumns, rows: rows)
        case .triage:
            // Its own order (worst first); the filter applies, sort keys do not.
            let items = Triage.items(snap).filter { keep($0.key, $0.place) }
            return TableModel(kind: kind, columns: triageColumns, rows: items.map { item in
                let health: HealthState = item.tone == .down ? .down : item.tone == .stale ? .stale : .degraded
                return TableRow(id: item.key, source: .triage(item, age: item.since.map { snap.time - $0 } ?? .nan), health: health, utilPct: .nan)
            })
        case .capacity:
            let countries = Capacity.countries(snap).filter { keep($0.country, "") }
            return TableModel(kind: kind, columns: countryColumns, rows: countries.map { c in
                let tight = c.headroom.isFinite && c.headroom < TriageRules().minHeadroom
                return TableRow(id: c.country, source: .country(c), health: tight ? .degraded : .healthy, utilPct: .nan)
            })
        case .gpus:
            let nodes = scopedNodes(snap, scope)
            let multi = nodes.count > 1
            var rows: [(GPUStatus, NodeStatus)] = []
            for n in nodes { for g in n.gpus { rows.append((g, n)) } }
            rows = rows.filter { keep(gpuName($0.0, $0.1, multi), "") }
            rows = sortGPUs(rows, by: sort, reversed: reversed)
            return TableModel(kind: kind, columns: gpuColumns, rows: rows.map { gpuRow($0.0, $0.1, multi) })
        }
    }

    public static func scopedNodes(_ snap: FleetSnapshot, _ scope: Scope) -> [NodeStatus] {
        snap.nodes.filter(scope.includes)
    }

    static func groupRow(_ g: GroupStatus, _ catalog: ClassCatalog = .standard) -> TableRow {
        TableRow(id: g.id, source: .group(g), health: g.health.worst, utilPct: g.gpuUtilPct, catalog: catalog)
    }

    /// Fewest requests in the 1 h window before a class's compliance is shown as the worst.
    static let minClassRequests: UInt64 = 50

    /// The class burning its budget fastest over 1 h: "code 97.9%" and its burn rate.
    static func worstClass(_ classes: [ClassStatus], _ catalog: ClassCatalog) -> (Cell, Cell) {
        var worst: (ClassStatus, Double)?
        for c in classes where c.windows[2].total >= minClassRequests {
            let b = c.burnRate(2, target: catalog[c.workload].sloTarget)
            if b.isFinite, worst == nil || b > worst!.1 { worst = (c, b) }
        }
        guard let (c, b) = worst else { return (Cell("-", .dim), Cell("-", .dim)) }
        let good = c.windows[2].goodFraction
        let target = catalog[c.workload].sloTarget
        // Rounded down: 99.96 % of requests in tier is not "100.0%".
        let pct = Formatting.fixed((good * 1000).rounded(.down) / 10, 1) + "%"
        return (Cell("\(c.workload.label) \(pct)", good < target ? .degraded : .healthy),
                Cell(Triage.times(b), Screen.burnTone(b)))
    }

    static func groupCells(_ g: GroupStatus, _ catalog: ClassCatalog = .standard) -> [Cell] {
        // A site or region whose name is just its id (a live source) shows the id once.
        let name = g.kind == .fleet ? g.name : (g.name == g.id ? g.id : "\(g.id) \(g.name)")
        let worst = g.health.worst
        let (slo, burn) = worstClass(g.classes, catalog)
        // A site serves one tier; a region or the fleet mixes them.
        let tier = g.kind == .site && g.tierMs.isFinite ? "<\(Int(g.tierMs))ms" : "-"
        return [
            Cell(name), Cell(Formatting.count(g.nodeCount)), Cell(Formatting.health(g.health), Tone.of(worst)),
            Cell(Formatting.pct(g.gpuUtilPct)), Cell(Formatting.temp(g.gpuTempMaxC), tempTone(g.gpuTempMaxC)),
            Cell(Formatting.rate(g.rps)),
            Cell(Formatting.quantile(g.latency.p50, bounded: g.latency.bucketBounded), Tone.latency(g.latency.p50)),
            Cell(Formatting.quantile(g.latency.p99, bounded: g.latency.bucketBounded), Tone.latency(g.latency.p99)),
            Cell(Formatting.age(g.ageS), ageTone(g.ageS)),
            Cell(tier, .dim), Cell(Formatting.count(g.gpuCount)), Cell(Formatting.fixed(g.errorRatio * 100, 1)),
            slo, burn,
            Cell(g.headroom.isFinite ? Formatting.pct(g.headroom * 100) + "%" : "-",
                 !g.headroom.isFinite ? .dim : g.headroom < TriageRules().minHeadroom ? .degraded : .plain),
        ]
    }

    static func nodeRow(_ n: NodeStatus) -> TableRow {
        TableRow(id: n.id, source: .node(n), health: n.health, utilPct: n.gpuUtilPct)
    }

    static func nodeCells(_ n: NodeStatus) -> [Cell] {
        [
            Cell(n.id), Cell(n.health.label, Tone.of(n.health)), Cell(String(n.gpus.count)),
            Cell(Formatting.pct(n.gpuUtilPct)), Cell(Formatting.temp(n.gpuTempMaxC), tempTone(n.gpuTempMaxC)),
            Cell(Formatting.rate(n.rps)),
            Cell(Formatting.quantile(n.latency.p50, bounded: n.latency.bucketBounded), Tone.latency(n.latency.p50)),
            Cell(Formatting.quantile(n.latency.p99, bounded: n.latency.bucketBounded), Tone.latency(n.latency.p99)),
            Cell(Formatting.age(n.ageS), ageTone(n.ageS)),
            Cell(n.reason, n.health == .healthy ? .dim : Tone.of(n.health)),
        ]
    }

    static func countryCells(_ c: CountryCapacity) -> [Cell] {
        let floor = TriageRules().minHeadroom
        return [Cell(c.country), Cell(Formatting.count(c.sites)), Cell(Formatting.count(c.nodes)), Cell(Formatting.count(c.gpus)),
                Cell(Formatting.rate(c.capacityRps)), Cell(Formatting.rate(c.rps)),
                Cell(c.headroom.isFinite ? Formatting.pct(c.headroom * 100) + "%" : "-", c.headroom < floor ? .degraded : .plain),
                Cell(String(c.tightSites), c.tightSites > 0 ? .degraded : .dim)]
    }

    static func triageCells(_ item: TriageItem, age: Double) -> [Cell] {
        [Cell(item.kind.label, item.tone), Cell(item.workload?.id ?? "-", item.workload == nil ? .dim : .plain), Cell(item.place),
         Cell(item.howBad, item.tone), Cell(age.isFinite ? Formatting.age(age) : "-", .dim)]
    }

    static func gpuName(_ g: GPUStatus, _ n: NodeStatus, _ multi: Bool) -> String {
        multi ? "\(n.id)/gpu\(g.index)" : "gpu\(g.index)"
    }

    static func gpuHealth(_ g: GPUStatus) -> HealthState {
        if g.xid != 0 { return Xid.isFatal(g.xid) ? .down : .degraded }
        if g.throttled { return .degraded }
        if !g.ageS.isFinite { return .stale }
        return .healthy
    }

    static func gpuRow(_ g: GPUStatus, _ n: NodeStatus, _ multi: Bool) -> TableRow {
        TableRow(id: "\(n.id)/\(g.index)", source: .gpu(g, n, qualified: multi), health: gpuHealth(g), utilPct: g.utilPct)
    }

    static func gpuCells(_ g: GPUStatus, _ n: NodeStatus, _ multi: Bool) -> [Cell] {
        let h = gpuHealth(g)
        let label = g.xid != 0 ? "XID" : (g.throttled ? "THROTTLE" : (h == .stale ? "NO DATA" : "ok"))
        let memPct = g.memTotalMiB > 0 ? g.memUsedMiB / g.memTotalMiB * 100 : .nan
        let xid = g.xid != 0 ? "\(g.xid) \(Xid.describe(g.xid))" : "-"
        return [
            Cell(gpuName(g, n, multi)), Cell(label, Tone.of(h)), Cell(Formatting.pct(g.utilPct)),
            Cell(Formatting.temp(g.tempC), tempTone(g.tempC)), Cell(Formatting.mem(g.memUsedMiB)),
            Cell(Formatting.pct(memPct)), Cell(g.powerW.isFinite ? "\(Int(g.powerW.rounded()))W" : "-"),
            Cell(xid, g.xid != 0 ? Tone.of(h) : .dim), Cell(Formatting.age(g.ageS), ageTone(g.ageS)),
        ]
    }

    static func tempTone(_ t: Double) -> Tone { !t.isFinite ? .dim : t >= 87 ? .down : t >= 80 ? .degraded : .plain }
    static func ageTone(_ a: Double) -> Tone { !a.isFinite ? .stale : a > 3 ? .stale : .plain }

    /// NaN sorts last whichever way the column is sorted.
    static func desc(_ a: Double, _ b: Double) -> Bool? {
        switch (a.isNaN, b.isNaN) {
        case (true, true): return nil
        case (true, false): return false
        case (false, true): return true
        default: return a == b ? nil : a > b
        }
    }

    static func sortGroups(_ g: [GroupStatus], by key: SortKey, reversed: Bool) -> [GroupStatus] {
        sortRows(g, by: key, reversed: reversed)
    }

    static func sortNodes(_ n: [NodeStatus], by key: SortKey, reversed: Bool) -> [NodeStatus] {
        sortRows(n, by: key, reversed: reversed)
    }

    /// One sort for groups and nodes: they differ only in what "worst" means.
    static func sortRows<T: SortableRow>(_ items: [T], by key: SortKey, reversed: Bool) -> [T] {
        order(items, Array(items.indices), by: key, reversed: reversed).map { items[$0] }
    }

    /// The indices `subset` of `items` in the order of `key`: precomputed numeric keys, larger
    /// first (missing data, NaN, last), ties by id. Comparing a few doubles instead of whole
    /// structs, and moving indices instead of rows: a snapshot's rows are large structs, and
    /// copying 4,400 sites through a filter, a sort and a map was most of a new snapshot's frame.
    static func order<T: SortableRow>(_ items: [T], _ subset: [Int], by key: SortKey, reversed: Bool) -> [Int] {
        let ids = subset.map { items[$0].id }  // read once, not per comparison
        if key == .name {
            let byID = subset.indices.sorted { reversed ? ids[$0] > ids[$1] : ids[$0] < ids[$1] }
            return byID.map { subset[$0] }
        }
        let k = subset.map { i -> SIMD4<Double> in
            let x = items[i]
            let v: SIMD4<Double> = switch key {
            case .health: x.worstFirstKey
            case .p99: SIMD4(x.latency.p99, 0, 0, 0)
            case .p50: SIMD4(x.latency.p50, 0, 0, 0)
            case .gpu: SIMD4(x.gpuUtilPct, 0, 0, 0)
            case .temp: SIMD4(x.gpuTempMaxC, 0, 0, 0)
            case .rps: SIMD4(x.rps, 0, 0, 0)
            case .age: SIMD4(x.ageS, 0, 0, 0)
            case .name: SIMD4(0, 0, 0, 0)
            }
            return v.replacing(with: -.infinity, where: .!(v .== v))
        }
        let sorted = subset.indices.sorted { a, b in
            let x = k[a], y = k[b]
            for i in 0..<4 where x[i] != y[i] { return reversed ? x[i] < y[i] : x[i] > y[i] }
            return ids[a] < ids[b]
        }
        return sorted.map { subset[$0] }
    }

    static func sortGPUs(_ g: [(GPUStatus, NodeStatus)], by key: SortKey, reversed: Bool) -> [(GPUStatus, NodeStatus)] {
        g.sorted { a, b in
            let r: Bool? = {
                switch key {
                case .health:
                    let ha = gpuHealth(a.0), hb = gpuHealth(b.0)
                    return ha != hb ? ha > hb : desc(a.0.tempC, b.0.tempC)
                case .gpu: return desc(a.0.utilPct, b.0.utilPct)
                case .temp: return desc(a.0.tempC, b.0.tempC)
                case .age: return desc(a.0.ageS, b.0.ageS)
                case .p99, .p50, .rps, .name: return nil
                }
            }()
            guard let r else { return (a.1.id, a.0.index) < (b.1.id, b.0.index) }
            return reversed ? !r : r
        }
    }
}

/// What the table sort reads from a group or a node.
protocol SortableRow {
    var id: String { get }
    var latency: LatencySummary { get }
    var gpuUtilPct: Double { get }
    var gpuTempMaxC: Double { get }
    var rps: Double { get }
    var ageS: Double { get }
    /// Larger is worse, compared left to right, then by p99.
    var worstFirstKey: SIMD4<Double> { get }
}

extension GroupStatus: SortableRow {
    var worstFirstKey: SIMD4<Double> { SIMD4(Double(health.down), Double(health.degraded), Double(health.stale), latency.p99) }
}

extension NodeStatus: SortableRow {
    var worstFirstKey: SIMD4<Double> { SIMD4(Double(health.rawValue), latency.p99, 0, 0) }
}
