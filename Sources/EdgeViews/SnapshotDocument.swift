import EdgeCollector
import EdgeCore
import Foundation

/// What `edgetop snapshot` prints, in every format, from one snapshot and one view.
public struct SnapshotDocument {
    public var snapshot: FleetSnapshot
    public var kind: RowKind
    public var scope: Scope
    public var sort: SortKey
    public var reversed: Bool
    public var limit: Int?
    /// Where the data came from ("simulator", "replay FILE", …).
    public var source: String
    /// Live sources with their counters and last error (the JSON `sources` section).
    public var sources: [SourceStats] = []
    /// When set, every entity in the JSON carries its `history` over `span` from `provider`.
    public var history: (provider: any HistoryProvider, span: HistorySpan)?

    public init(snapshot: FleetSnapshot, kind: RowKind, scope: Scope = Scope(), sort: SortKey = .health,
                reversed: Bool = false, limit: Int? = nil, source: String = "simulator") {
        self.snapshot = snapshot; self.kind = kind; self.scope = scope; self.sort = sort
        self.reversed = reversed; self.limit = limit; self.source = source
    }

    /// The JSON schema id; bump on incompatible changes (see docs/snapshot.schema.json).
    public static let schema = "edgetop.snapshot/v1"

    public var table: TableModel {
        var t = FleetTables.table(snapshot, kind: kind, scope: scope, sort: sort, reversed: reversed)
        if let limit { t.rows = Array(t.rows.prefix(limit)) }
        return t
    }

    // MARK: table

    /// Human table: a summary line, then the rows, fitted to `width`.
    public func text(width: Int = 80, ascii: Bool = false, color: Bool = false) -> String {
        let f = snapshot.fleet
        var lines: [String] = []
        lines.append("edgetop \(source) · \(Self.rfc3339(snapshot.time)) · window \(Int(snapshot.windowSeconds))s")
        lines.append("\(Formatting.count(f.nodeCount)) nodes: \(Formatting.count(f.health.healthy)) ok "
            + "\(Formatting.count(f.health.degraded)) deg \(Formatting.count(f.health.down)) down "
            + "\(Formatting.count(f.health.stale)) stale · GPU \(Formatting.pct(f.gpuUtilPct))% · "
            + "p50 \(Formatting.msUnit(f.latency.p50)) p99 \(Formatting.msUnit(f.latency.p99))")
        lines.append("")
        let t = table
        lines = lines.map { TextWidth.fit($0, width, ascii: ascii) }
        lines.append(contentsOf: t.textLines(width: width, ascii: ascii, color: color))
        if t.rows.isEmpty { lines.append("(no \(kind.rawValue) match)") }
        return lines.joined(separator: "\n") + "\n"
    }

    // MARK: JSON

    var includesSites: Bool { kind == .sites || kind == .nodes || kind == .gpus || scope.site != nil || scope.node != nil || scope.region != nil && kind != .regions }
    var includesNodes: Bool { kind == .nodes || kind == .gpus || scope.site != nil || scope.node != nil }

    /// The versioned JSON document (docs/snapshot.schema.json).
    public func json() -> String {
        var w = JSONWriter()
        // Histories are read a chunk at a time as the document is written (a whole fleet's at
        // once would not fit in memory).
        let cursor = history.map { HistoryCursor(provider: $0.provider, span: $0.span, at: snapshot.time, order: jsonEntities()) }
        func historyOf(_ e: HistoryEntity) -> HistorySeries? { cursor?.series(e) }
        let tiers = TierTotals(snapshot.nodes)
        func tierCounts(_ g: GroupStatus) -> [UInt64] { tiers.of(g) }
        var fields: [(String, (inout JSONWriter) -> Void)] = [
            ("schema", { $0.string(Self.schema) }),
            ("generated_at", { $0.string(Self.rfc3339(snapshot.time)) }),
            ("window_s", { $0.number(snapshot.windowSeconds) }),
            ("source", { $0.string(source) }),
            ("ingest", { [s = snapshot.ingest] w in
                w.object([("samples", { $0.number(s.samples) }), ("invalid", { $0.number(s.invalid) })]) }),
            ("sources", { [sources] w in w.array(sources) { w, s in
                w.object([
                    ("name", { $0.string(s.name) }), ("up", { $0.raw(s.up ? "true" : "false") }),
                    ("reads", { $0.number(s.reads) }), ("failures", { $0.number(s.failures) }),
                    ("samples", { $0.number(s.samples) }), ("invalid", { $0.number(s.invalid) }),
                    ("dropped", { $0.number(s.dropped) }), ("ignored", { $0.number(s.ignored) }),
                    ("last_error", { $0.string(s.lastError) }),
                ])
            } }),
            ("fleet", { Self.group(&$0, snapshot.fleet, tiers: tierCounts(snapshot.fleet), history: historyOf(.fleet), catalog: snapshot.classCatalog) }),
            ("regions", { [regions = snapshot.regions.filter { scope.region == nil || $0.id == scope.region }] w in
                w.array(regions) { Self.group(&$0, $1, tiers: tierCounts($1), history: historyOf(.region($1.id)), catalog: snapshot.classCatalog) } }),
        ]
        if kind == .triage {
            let rows = table.rows
            fields.append(("triage", { Self.triage(&$0, rows) }))
        }
        if kind == .capacity {
            let rows = table.rows
            fields.append(("capacity", { [snapshot] in Self.capacity(&$0, rows, snapshot) }))
        }
        if includesSites {
            let limited = jsonSites()
            fields.append(("sites", { w in w.array(limited) { Self.group(&$0, $1, tiers: tierCounts($1), history: historyOf(.site($1.id)), catalog: snapshot.classCatalog) } }))
        }
        if includesNodes {
            let nodes = jsonNodes()
            fields.append(("nodes", { w in w.array(nodes) { Self.node(&$0, $1, history: historyOf(.node($1.id)), catalog: snapshot.classCatalog) } }))
        }
        w.object(fields)
        return w.out + "\n"
    }


    /// `{"step_s", "t0", "p50_ms":[…], "p99_ms":[…], "rps":[…], "err_pct":[…], "gpu_util_pct":[…],
    /// "gpu_temp_max_c":[…], …}`, oldest step first; `null` where a step has no data.
    static func history(_ w: inout JSONWriter, _ h: HistorySeries, group: Bool) {
        func values(_ v: [Double]) -> (inout JSONWriter) -> Void { { w in w.array(v) { $0.number($1) } } }
        var fields: [(String, (inout JSONWriter) -> Void)] = [
            ("step_s", { $0.number(h.stepSeconds) }), ("t0", { $0.number(h.t0) }),
            ("p50_ms", values(h.p50Ms)), ("p99_ms", values(h.p99Ms)), ("rps", values(h.rps)),
            ("err_pct", values(h.errorPct)), ("gpu_util_pct", values(h.gpuUtilPct)),
            ("gpu_temp_max_c", values(h.gpuTempMaxC)),
        ]
        if group {
            for state in [HealthState.degraded, .down, .stale] {
                fields.append((state.label.lowercased(), values(h.steps.map { $0.hasData ? Double($0.health[state]) : .nan })))
            }
        } else {
            fields.append(("state", { w in w.array(h.steps) { w, s in
                w.string(s.worst?.label)
            } }))
        }
        w.object(fields)
    }

    /// The entities the JSON lists, in the order it writes them.
    private func jsonEntities() -> [HistoryEntity] {
        var out: [HistoryEntity] = [.fleet]
        out += snapshot.regions.filter { scope.region == nil || $0.id == scope.region }.map { .region($0.id) }
        if includesSites { out += jsonSites().map { .site($0.id) } }
        if includesNodes { out += jsonNodes().map { .node($0.id) } }
        return out
    }

    private func jsonSites() -> [GroupStatus] {
        let nodeSite = scope.nodeSite(in: snapshot)
        let sites = snapshot.sites.filter { scope.includes(site: $0, nodeSite: nodeSite) }
        return kind == .sites && limit != nil ? Array(sortedSites(sites).prefix(limit!)) : sites
    }

    private func jsonNodes() -> [NodeStatus] {
        var nodes = FleetTables.scopedNodes(snapshot, scope)
        if kind == .nodes, let limit { nodes = Array(FleetTables.sortNodes(nodes, by: sort, reversed: reversed).prefix(limit)) }
        return nodes
    }

    private func sortedSites(_ s: [GroupStatus]) -> [GroupStatus] { FleetTables.sortGroups(s, by: sort, reversed: reversed) }

    /// Latency tiers reported as fractions (the tier bounds of `TierBuckets`).
    static let reportedTiersMs: [Double] = [50, 100, 200, 300, 500]

    /// Share of requests at or under each tier bound, from exact tier-aligned counters since
    /// the collector started (or, read back through Prometheus, as the collectors served them).
    static func tierFractions(_ w: inout JSONWriter, _ counts: [UInt64]) {
        let total = counts.reduce(0, +)
        w.object(reportedTiersMs.map { bound in
            (String(Int(bound)), { (w: inout JSONWriter) in
                guard total > 0 else { w.raw("null"); return }
                let upTo = TierBuckets.index(bound)
                let under = counts.prefix(upTo + 1).reduce(0, +)
                w.number(Double(under) / Double(total))
            })
        })
    }

    /// Sums of the nodes' tier counters for the fleet, each region and each site, in one pass
    /// over the nodes (a walk of every node for each site took 1.7 s at 4,400 sites and 44k nodes).
    struct TierTotals {
        private(set) var fleet = [UInt64](repeating: 0, count: TierBuckets.upperBoundsMs.count)
        private var regions: [String: [UInt64]] = [:]
        /// By region, then site (a site id is unique within its region).
        private var sites: [String: [String: [UInt64]]] = [:]

        init(_ nodes: [NodeStatus]) {
            for n in nodes where !n.tierCounts.isEmpty {
                Self.add(n.tierCounts, to: &fleet)
                Self.add(n.tierCounts, to: &regions[n.region, default: Self.zero])
                Self.add(n.tierCounts, to: &sites[n.region, default: [:]][n.site, default: Self.zero])
            }
        }

        static let zero = [UInt64](repeating: 0, count: TierBuckets.upperBoundsMs.count)

        private static func add(_ counts: [UInt64], to sum: inout [UInt64]) {
            for (i, c) in counts.enumerated() where i < sum.count { sum[i] &+= c }
        }

        /// The sum for a group (zeros for one without nodes).
        func of(_ g: GroupStatus) -> [UInt64] {
            switch g.kind {
            case .fleet: fleet
            case .region: regions[g.id] ?? Self.zero
            case .site: sites[g.region]?[g.id] ?? Self.zero
            }
        }
    }

    static func latency(_ w: inout JSONWriter, _ l: LatencySummary) {
        w.object([("count", { $0.number(l.count) }), ("p50", { $0.number(l.p50) }), ("p90", { $0.number(l.p90) }),
                  ("p99", { $0.number(l.p99) }), ("max", { $0.number(l.max) }),
                  ("bucket_bounded", { $0.raw(l.bucketBounded ? "true" : "false") })])
    }

    /// `classes`: each workload class the entity served, with its tier, SLO, window figures,
    /// burn rates per window and the budget left (see `ClassStatus`).
    static func classes(_ w: inout JSONWriter, _ list: [ClassStatus], catalog: ClassCatalog) {
        w.object(list.map { c in
            let spec = catalog[c.workload]
            return (c.workload.id, { (w: inout JSONWriter) in
                w.object([
                    ("tier_ms", { $0.number(spec.tierMs) }),
                    ("slo_target", { $0.number(spec.sloTarget) }),
                    ("count", { $0.number(Double(c.requests)) }),
                    ("errors", { $0.number(Double(c.errors)) }),
                    ("p50", { $0.number(c.latency.p50) }), ("p99", { $0.number(c.latency.p99) }),
                    ("within_tier_fraction", { $0.number(c.withinTierFraction) }),
                    ("burn_rate", { w in w.object(SLOWindows.names.indices.map { i in
                        (SLOWindows.names[i], { $0.number(c.burnRate(i, target: spec.sloTarget)) })
                    }) }),
                    ("budget_remaining", { $0.number(c.budgetRemaining(target: spec.sloTarget)) }),
                ])
            })
        })
    }

    static func group(_ w: inout JSONWriter, _ g: GroupStatus, tiers: [UInt64], history h: HistorySeries? = nil,
                      catalog: ClassCatalog = .standard) {
        var fields: [(String, (inout JSONWriter) -> Void)] = [
            ("id", { $0.string(g.id) }), ("name", { $0.string(g.name) }),
        ]
        if g.kind == .site {
            fields.append(("region", { $0.string(g.region) }))
            fields.append(("country", { $0.string(g.country) }))
        }
        fields += [
            ("nodes", { $0.number(g.nodeCount) }),
            ("health", { w in w.object([
                ("healthy", { $0.number(g.health.healthy) }), ("degraded", { $0.number(g.health.degraded) }),
                ("down", { $0.number(g.health.down) }), ("stale", { $0.number(g.health.stale) }),
                ("worst", { $0.string(g.health.worst.label) }),
            ]) }),
            ("gpus", { $0.number(g.gpuCount) }),
            ("gpu_util_pct", { $0.number(g.gpuUtilPct) }),
            ("gpu_temp_max_c", { $0.number(g.gpuTempMaxC) }),
            ("rps", { $0.number(g.rps) }),
            ("error_ratio", { $0.number(g.errorRatio) }),
            ("latency_ms", { latency(&$0, g.latency) }),
            ("tier_fractions", { tierFractions(&$0, tiers) }),
            ("tier_ms", { $0.number(g.tierMs) }),
            ("age_s", { $0.number(g.ageS) }),
            ("classes", { classes(&$0, g.classes, catalog: catalog) }),
            ("capacity_rps", { $0.number(g.capacityRps) }),
            ("headroom_pct", { $0.number(g.headroom * 100) }),
        ]
        if let h { fields.append(("history", { history(&$0, h, group: true) })) }
        w.object(fields)
    }

    static func node(_ w: inout JSONWriter, _ n: NodeStatus, history h: HistorySeries? = nil, catalog: ClassCatalog = .standard) {
        var fields: [(String, (inout JSONWriter) -> Void)] = [
            ("id", { $0.string(n.id) }), ("name", { $0.string(n.id) }), ("site", { $0.string(n.site) }),
            ("region", { $0.string(n.region) }), ("health", { $0.string(n.health.label) }),
            ("reason", { $0.string(n.reason) }), ("cause", { $0.string(n.cause) }), ("tier_ms", { $0.number(n.tierMs) }),
            ("gpu_util_pct", { $0.number(n.gpuUtilPct) }), ("gpu_temp_max_c", { $0.number(n.gpuTempMaxC) }),
            ("gpu_mem_used_mib", { $0.number(n.gpuMemUsedMiB) }), ("gpu_mem_total_mib", { $0.number(n.gpuMemTotalMiB) }),
            ("rps", { $0.number(n.rps) }), ("error_ratio", { $0.number(n.errorRatio) }),
            ("latency_ms", { latency(&$0, n.latency) }), ("tier_fractions", { tierFractions(&$0, n.tierCounts) }),
            ("latency_source", { $0.string(n.latencySource) }),
            ("latency_sources", { w in w.array(n.latencySources) { w, s in
                w.object([
                    ("source", { $0.string(s.source) }), ("service", { $0.string(s.service) }),
                    ("used", { $0.raw(s.used ? "true" : "false") }),
                    ("count", { $0.number(Double(s.latency.count)) }), ("p50", { $0.number(s.latency.p50) }),
                    ("p99", { $0.number(s.latency.p99) }), ("errors", { $0.number(Double(s.errors)) }),
                    ("bucket_bounded", { $0.raw(s.latency.bucketBounded ? "true" : "false") }),
                ])
            } }),
            ("age_s", { $0.number(n.ageS) }),
            ("workload", { $0.string(n.workload.id) }),
            ("classes", { classes(&$0, n.classes, catalog: catalog) }),
            ("capacity_rps", { $0.number(n.capacityRps) }),
            ("load1", { $0.number(n.load1) }), ("mem_used_pct", { $0.number(n.memUsedPct) }),
            ("requests_running", { $0.number(n.requestsRunning) }), ("requests_waiting", { $0.number(n.requestsWaiting) }),
            ("gpus", { w in w.array(n.gpus) { w, g in
                w.object([
                    ("index", { $0.number(g.index) }), ("util_pct", { $0.number(g.utilPct) }),
                    ("temp_c", { $0.number(g.tempC) }), ("mem_used_mib", { $0.number(g.memUsedMiB) }),
                    ("mem_total_mib", { $0.number(g.memTotalMiB) }), ("power_w", { $0.number(g.powerW) }),
                    ("xid", { $0.number(g.xid) }), ("throttled", { $0.raw(g.throttled ? "true" : "false") }),
                    ("age_s", { $0.number(g.ageS) }), ("source", { $0.string(g.source) }),
                ])
            } }),
        ]
        if let h { fields.append(("history", { history(&$0, h, group: false) })) }
        w.object(fields)
    }

    // MARK: CSV

    /// One row per entity of the view, raw numbers (no units), RFC 4180 quoting.
    public func csv() -> String {
        func q(_ s: String) -> String {
            let clean = TextWidth.sanitize(s)
            return clean.contains(where: { $0 == "," || $0 == "\"" }) ? "\"" + clean.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : clean
        }
        func n(_ v: Double) -> String {
            guard v.isFinite else { return "" }
            return v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String((v * 1000).rounded() / 1000)
        }
        var lines: [String] = []
        let order = table.rows.map(\.id)
        switch kind {
        case .fleet, .regions, .sites:
            lines.append("kind,id,name,region,nodes,healthy,degraded,down,stale,worst,gpus,gpu_util_pct,gpu_temp_max_c,rps,p50_ms,p90_ms,p99_ms,max_ms,count,age_s")
            let all = kind == .fleet ? [snapshot.fleet] : (kind == .regions ? snapshot.regions : snapshot.sites)
            let byID = Dictionary(all.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
            for id in order {
                guard let g = byID[id] else { continue }
                lines.append([g.kind.rawValue, q(g.id), q(g.name), q(g.region), String(g.nodeCount), String(g.health.healthy),
                              String(g.health.degraded), String(g.health.down), String(g.health.stale), g.health.worst.label,
                              String(g.gpuCount), n(g.gpuUtilPct), n(g.gpuTempMaxC), n(g.rps), n(g.latency.p50),
                              n(g.latency.p90), n(g.latency.p99), n(g.latency.max), String(g.latency.count), n(g.ageS)].joined(separator: ","))
            }
        case .nodes:
            lines.append("id,site,region,health,reason,gpus,gpu_util_pct,gpu_temp_max_c,rps,p50_ms,p90_ms,p99_ms,max_ms,count,age_s")
            let byID = Dictionary(snapshot.nodes.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
            for id in order {
                guard let x = byID[id] else { continue }
                lines.append([q(x.id), q(x.site), q(x.region), x.health.label, q(x.reason), String(x.gpus.count), n(x.gpuUtilPct),
                              n(x.gpuTempMaxC), n(x.rps), n(x.latency.p50), n(x.latency.p90), n(x.latency.p99),
                              n(x.latency.max), String(x.latency.count), n(x.ageS)].joined(separator: ","))
            }
        case .triage:
            lines.append("kind,class,place,how_bad,severity,since,target")
            for r in table.rows {
                guard case .triage(let item, _) = r.source else { continue }
                lines.append([item.kind.id, item.workload?.id ?? "", q(item.place), q(item.howBad), n(item.severity),
                              item.since.map(n) ?? "", q(Self.target(item.target))].joined(separator: ","))
            }
        case .capacity:
            lines.append("country,sites,nodes,gpus,capacity_rps,rps,headroom_pct,tight_sites")
            for r in table.rows {
                guard case .country(let c) = r.source else { continue }
                lines.append([q(c.country), String(c.sites), String(c.nodes), String(c.gpus), n(c.capacityRps), n(c.rps),
                              n(c.headroom * 100), String(c.tightSites)].joined(separator: ","))
            }
        case .gpus:
            lines.append("node,gpu,util_pct,temp_c,mem_used_mib,mem_total_mib,power_w,xid,throttled,age_s")
            let byID = Dictionary(snapshot.nodes.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
            for id in order {
                let parts = id.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
                guard parts.count == 2, let node = byID[String(parts[0])], let i = Int(parts[1]), i < node.gpus.count else { continue }
                let g = node.gpus[i]
                lines.append([q(node.id), String(g.index), n(g.utilPct), n(g.tempC), n(g.memUsedMiB), n(g.memTotalMiB),
                              n(g.powerW), String(g.xid), g.throttled ? "1" : "0", n(g.ageS)].joined(separator: ","))
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `region:WEU`, `site:fra1`, `node:fra1-n03`, `fleet`.
    static func target(_ e: HistoryEntity) -> String {
        switch e {
        case .fleet: "fleet"
        case .region(let r): "region:\(r)"
        case .site(let s): "site:\(s)"
        case .node(let n): "node:\(n)"
        }
    }

    /// `capacity`: per country, and where each tight site's classes could go.
    static func capacity(_ w: inout JSONWriter, _ rows: [TableRow], _ snap: FleetSnapshot) {
        let floor = TriageRules().minHeadroom
        let moves = Capacity.moves(snap, floor: floor)
        w.object([
            ("floor_pct", { $0.number(floor * 100) }),
            ("countries", { w in w.array(rows) { w, r in
                guard case .country(let c) = r.source else { w.raw("null"); return }
                w.object([
                    ("country", { $0.string(c.country) }), ("sites", { $0.number(c.sites) }), ("nodes", { $0.number(c.nodes) }),
                    ("gpus", { $0.number(c.gpus) }), ("capacity_rps", { $0.number(c.capacityRps) }), ("rps", { $0.number(c.rps) }),
                    ("headroom_pct", { $0.number(c.headroom * 100) }), ("tight_sites", { $0.number(c.tightSites) }),
                ])
            } }),
            ("moves", { w in w.array(moves) { w, m in
                w.object([
                    ("site", { $0.string(m.site) }), ("class", { $0.string(m.workload.id) }), ("rps", { $0.number(m.rps) }),
                    ("to", { $0.string(m.to) }), ("distance_km", { $0.number(m.distanceKm) }), ("added_ms", { $0.number(m.addedMs) }),
                    ("expected_p99_ms", { $0.number(m.expectedP99Ms) }), ("to_headroom_after_pct", { $0.number(m.toHeadroomAfter * 100) }),
                ])
            } }),
        ])
    }

    /// `triage`: what needs attention, worst first (the live view's landing screen).
    static func triage(_ w: inout JSONWriter, _ rows: [TableRow]) {
        w.array(rows) { w, r in
            guard case .triage(let item, _) = r.source else { w.raw("null"); return }
            w.object([
                ("kind", { $0.string(item.kind.id) }),
                ("class", { $0.string(item.workload?.id) }),
                ("place", { $0.string(item.place) }), ("how_bad", { $0.string(item.howBad) }),
                ("severity", { $0.number(item.severity) }),
                ("since", { $0.number(item.since) }),
                ("target", { $0.string(Self.target(item.target)) }),
                ("action", { $0.string(item.action) }),
            ])
        }
    }

    static func rfc3339(_ t: Double) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: Date(timeIntervalSince1970: t))
    }
}

/// Reads histories a chunk of entities at a time, in the order a document writes them.
final class HistoryCursor {
    let provider: any HistoryProvider
    let span: HistorySpan
    let time: Double
    let order: [HistoryEntity]
    private var position: [HistoryEntity: Int] = [:]
    private var cache: [HistoryEntity: HistorySeries] = [:]
    static let chunk = 256

    init(provider: any HistoryProvider, span: HistorySpan, at time: Double, order: [HistoryEntity]) {
        self.provider = provider; self.span = span; self.time = time; self.order = order
        for (i, e) in order.enumerated() where position[e] == nil { position[e] = i }
    }

    func series(_ e: HistoryEntity) -> HistorySeries? {
        if let s = cache[e] { return s }
        let start = position[e] ?? 0
        let ids = position[e] == nil ? [e] : Array(order[start..<min(order.count, start + Self.chunk)])
        cache = provider.history(of: ids, span: span, at: time)
        return cache[e]
    }
}
