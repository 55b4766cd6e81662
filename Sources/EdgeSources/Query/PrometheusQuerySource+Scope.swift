import EdgeCollector
import EdgeCore
import Foundation

/// Scoped refreshes: group rows from aggregates, per-node series only where they are needed.
///
/// One round trip of concurrent queries (after asking, once a minute, whether the recording
/// rules exist): per-site health counts, per-region figures, per-site figures for the sites in
/// scope, collector liveness, what triage needs of the nodes that are not HEALTHY (state, why,
/// age, Xids, throttling: filtered and joined server-side), and every series of the site or
/// node on screen. Only a silent collector costs a second trip (its nodes as last seen). A
/// fleet view of 9,625 nodes then reads a few thousand series instead of two hundred thousand.
extension PrometheusQuerySource {
    /// A group figure read from an aggregate.
    enum GroupFigure: CaseIterable { case latency, errors, gpuUtil, gpuTemp, gpuCount, age }

    /// The recording rules (deploy/rules.yml) a refresh reads instead of raw aggregates.
    static let ruleNames: [String] = ["site:edgetop_nodes:count_by_state"] + ["site", "region"].flatMap { level in
        ["edgetop_request_latency_seconds_bucket:rate1m", "edgetop_node_request_errors:rate1m", "edgetop_gpu_utilization_ratio:avg",
         "edgetop_gpu_temperature_celsius:max", "edgetop_gpus:count", "edgetop_node_data_age_seconds:max"].map { "\(level):\($0)" }
    }

    /// How often Prometheus is asked again whether it has the rules.
    static let rulesRecheckSeconds = 60.0

    /// The rules are usable only with the label names they were written for.
    var rulesApply: Bool { regionLabel == "region" && siteLabel == "site" }

    /// One figure per region (`sites` false) or per site, for the groups `matcher` selects.
    func groupQuery(_ f: GroupFigure, sites: Bool, matcher: String?, rules: Bool) -> String {
        let level = sites ? "site" : "region"
        let by = sites ? "\(regionLabel), \(siteLabel)" : regionLabel
        let w = Int(window.rounded())
        func sel(_ name: String) -> String { Self.selector(name, matcher) }
        if rules {
            switch f {
            // A rule's 1 m rates averaged over the window, times the window: its increase.
            case .latency: return "avg_over_time(\(sel("\(level):edgetop_request_latency_seconds_bucket:rate1m"))[\(w)s]) * \(w)"
            case .errors: return "avg_over_time(\(sel("\(level):edgetop_node_request_errors:rate1m"))[\(w)s]) * \(w)"
            case .gpuUtil: return sel("\(level):edgetop_gpu_utilization_ratio:avg")
            case .gpuTemp: return sel("\(level):edgetop_gpu_temperature_celsius:max")
            case .gpuCount: return sel("\(level):edgetop_gpus:count")
            case .age: return sel("\(level):edgetop_node_data_age_seconds:max")
            }
        }
        switch f {
        case .latency: return "sum by (\(by), le) (increase(\(sel("edgetop_request_latency_seconds_bucket"))[\(w)s]))"
        case .errors: return "sum by (\(by)) (increase(\(sel("edgetop_node_request_errors_total"))[\(w)s]))"
        case .gpuUtil: return "avg by (\(by)) (\(sel("edgetop_gpu_utilization_ratio")))"
        case .gpuTemp: return "max by (\(by)) (\(sel("edgetop_gpu_temperature_celsius")))"
        case .gpuCount: return "count by (\(by)) (\(sel("edgetop_gpu_utilization_ratio")))"
        case .age: return "max by (\(by)) (\(sel("edgetop_node_data_age_seconds")))"
        }
    }

    /// Nodes per site and state (states with no node are left out: a quarter of the series).
    func siteHealthQuery(rules: Bool) -> String {
        rules ? "site:edgetop_nodes:count_by_state > 0" : "count by (\(regionLabel), \(siteLabel), state) (edgetop_node_health == 1)"
    }

    /// The matcher of the nodes a scope shows in full (nil: none).
    func fullMatcher(_ scope: QueryScope) -> String? {
        switch scope {
        case .site(let s): equals(siteLabel, s)
        case .node(let n): equals(nodeLabel, n)
        default: nil
        }
    }

    func equals(_ label: String, _ value: String) -> String { "\(label)=\"\(ExpositionText.escapeLabelValue(value))\"" }

    /// The matcher for the sites whose figures a scope shows (nil: every site; none: no site).
    func siteMatcher(_ scope: QueryScope) -> String?? {
        switch scope {
        case .everything, .fleet: return .none
        case .allSites: return .some(nil)
        case .region(let r): return .some(equals(regionLabel, r))
        case .site(let s): return .some(equals(siteLabel, s))
        case .node(let n):
            guard let s = lock.withLock({ siteOfNode[n] }) else { return .none }
            return .some(equals(siteLabel, s))
        }
    }

    /// Whether Prometheus has every rule of `ruleNames`: asked once a minute.
    func rulesPresent(at now: Double, run: inout QueryRun) async -> Bool {
        guard rulesApply, useRecordingRules else { return false }
        if let c = lock.withLock({ rulesChecked }), now - c.at < Self.rulesRecheckSeconds { return c.present }
        let answer = await runQueries(["count by (__name__) ({__name__=~\"(site|region):edgetop_.+\"})"], at: now, run: &run)[0]
        let names = Set(answer?.samples.compactMap { $0.labels["__name__"] } ?? [])
        let present = Self.ruleNames.allSatisfy(names.contains)
        lock.withLock { rulesChecked = (now, present) }
        return present
    }

    /// A scoped snapshot, or nil when Prometheus holds no `edgetop_node_health` (no edgetop
    /// collector behind it: only per-node series can say anything then).
    func scopedSnapshot(at now: Double, scope: QueryScope, run: inout QueryRun) async -> FleetSnapshot? {
        let rules = await rulesPresent(at: now, run: &run)
        run.cost.rules = rules
        var queries: [String] = [siteHealthQuery(rules: rules)]
        let regionFigures = queries.count
        queries += GroupFigure.allCases.map { groupQuery($0, sites: false, matcher: nil, rules: rules) }
        let siteFigures = queries.count
        let sitesWanted = siteMatcher(scope)
        if case .some(let m) = sitesWanted { queries += GroupFigure.allCases.map { groupQuery($0, sites: true, matcher: m, rules: rules) } }
        let liveness = queries.count
        queries += Liveness.allCases.map { promql($0) }
        // The nodes, in the same round trip: the exceptions, and the scope's nodes in full.
        let full = fullMatcher(scope)
        let nodeReads = exceptionQueries() + (full.map { m in Query.allCases.map { (q: $0, text: promql($0, matcher: m)) } } ?? [])
        let nodes = queries.count
        queries += nodeReads.map(\.text)
        let answers = await runQueries(queries, at: now, run: &run)
        // No health series at all: no edgetop collector behind this Prometheus. A failed health
        // query next to answered ones is a problem shown on a partial view, not a reason to
        // read every node's series from a Prometheus that is struggling.
        if let health = answers[0], health.samples.isEmpty { return nil }
        if answers.allSatisfy({ $0 == nil }) { return nil }
        let health = answers[0] ?? PrometheusAPI.Answer(samples: [], warnings: [])

        var live: [Liveness: PrometheusAPI.Answer] = [:]
        for (i, q) in Liveness.allCases.enumerated() { if let a = answers[liveness + i] { live[q] = a } }
        let silent = silentCollectors(live, now: now)
        var figures = GroupFigures(window: window)
        figures.addHealth(health.samples, region: regionLabel, site: siteLabel)
        for (i, f) in GroupFigure.allCases.enumerated() {
            figures.add(f, answers[regionFigures + i]?.samples ?? [], region: regionLabel, site: nil)
            if sitesWanted != .none { figures.add(f, answers[siteFigures + i]?.samples ?? [], region: regionLabel, site: siteLabel) }
        }
        // A silent collector's regions: its nodes as last seen, STALE, counted per site.
        for c in silent {
            if !run.problems.contains(c.message) { run.problems.append(c.message) }
            let extra = "edgetop_collector=\"\(ExpositionText.escapeLabelValue(c.name))\""
            let q = "count by (\(regionLabel), \(siteLabel)) (last_over_time(\(Self.selector("edgetop_node_health", extra))[\(Self.collectorMemory)]) == 1)"
            let answer = await runQueries([q], at: now, run: &run)[0]
            figures.markStale(regions: Set(c.regions), answer?.samples ?? [], region: regionLabel, site: siteLabel)
        }

        var byQuery: [Query: [VectorSample]] = [:]
        for (i, read) in nodeReads.enumerated() { if let a = answers[nodes + i] { byQuery[read.q, default: []] += a.samples } }
        // A silent collector's own nodes are listed only for the site or node on screen.
        var snap = await assembleNodes(byQuery, at: now, silent: full == nil ? [] : silent, silentMatcher: full, run: &run)
        let groups = figures.groups()
        snap.fleet = groups.fleet
        snap.regions = groups.regions
        snap.sites = groups.sites
        snap.fleetHistogram = groups.histogram
        switch scope {
        case .site(let s): snap.nodeCoverage = .partial(site: s, node: nil)
        case .node(let n): snap.nodeCoverage = .partial(site: nil, node: n)
        default: snap.nodeCoverage = .partial(site: nil, node: nil)
        }
        return snap
    }
}

/// Group figures as the aggregates answer them, then as rows: sites, regions (their own
/// aggregates, health summed from their sites) and the fleet (summed from the regions, its
/// histogram the merge of theirs).
struct GroupFigures {
    struct Figures {
        var health = HealthCounts()
        var buckets: [(Double, Double)] = []
        var errors = Double.nan
        var util = Double.nan
        var temp = Double.nan
        var gpus = 0
        var age = Double.nan
        /// Whether latency and GPU figures were read (a site out of scope has health only).
        var read = false
    }

    let window: Double
    var regions: [String: Figures] = [:]
    var sites: [String: (region: String, figures: Figures)] = [:]

    init(window: Double) { self.window = window }

    mutating func addHealth(_ samples: [VectorSample], region: String, site: String) {
        for s in samples where s.value.isFinite && s.value > 0 {
            guard let r = s.labels[region], let id = s.labels[site], let state = HealthState(label: s.labels["state"] ?? "") else { continue }
            let n = Int(s.value.rounded())
            sites[id, default: (r, Figures())].figures.health[state] += n
        }
    }

    /// Sites of `silentRegions` hold only their nodes as last seen, STALE.
    mutating func markStale(regions silentRegions: Set<String>, _ samples: [VectorSample], region: String, site: String) {
        for id in sites.keys where silentRegions.contains(sites[id]!.region) { sites[id]!.figures.health = HealthCounts() }
        for s in samples where s.value.isFinite && s.value > 0 {
            guard let r = s.labels[region], let id = s.labels[site] else { continue }
            sites[id, default: (r, Figures())].figures.health.stale += Int(s.value.rounded())
        }
    }

    mutating func add(_ f: PrometheusQuerySource.GroupFigure, _ samples: [VectorSample], region: String, site: String?) {
        for s in samples where s.value.isFinite {
            guard let r = s.labels[region] else { continue }
            if let site {
                guard let id = s.labels[site] else { continue }
                if sites[id] == nil { sites[id] = (r, Figures()) }
                Self.set(f, s, &sites[id]!.figures)
            } else {
                Self.set(f, s, &regions[r, default: Figures()])
            }
        }
    }

    private static func set(_ f: PrometheusQuerySource.GroupFigure, _ s: VectorSample, _ g: inout Figures) {
        g.read = true
        switch f {
        case .latency: if let le = PrometheusQuerySource.bound(s.labels["le"]) { g.buckets.append((le, s.value)) }
        case .errors: g.errors = max(0, s.value)
        case .gpuUtil: g.util = s.value * 100
        case .gpuTemp: g.temp = s.value
        case .gpuCount: g.gpus = Int(s.value.rounded())
        case .age: g.age = s.value
        }
    }

    /// The embedded topology's sites by id: names, countries and places for a fleet whose ids
    /// are the simulator's (a real fleet's ids are shown as they are).
    static let topology = try? Topology.embedded()
    static let known: [String: SiteRecord] = Dictionary((topology?.sites ?? []).map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
    static let regionNames: [String: String] = topology?.regionNames ?? [:]

    func groups() -> (fleet: GroupStatus, regions: [GroupStatus], sites: [GroupStatus], histogram: CompactHistogram) {
        var regionHealth: [String: HealthCounts] = [:]
        var siteRows: [GroupStatus] = []
        for (id, (r, f)) in sites {
            regionHealth[r, default: HealthCounts()].add(f.health)
            var row = row(.site, id: id, region: r, f, Self.latency(f.buckets))
            if let k = Self.known[id], k.region == r {
                row.name = k.city; row.country = k.country; row.latitude = k.latitude; row.longitude = k.longitude
            }
            siteRows.append(row)
        }
        siteRows.sort { ($0.region, $0.id) < ($1.region, $1.id) }
        var fleetHist = RollupHistogram()
        var fleet = Figures()
        var utilSum = 0.0, utilGPUs = 0
        var regionRows: [GroupStatus] = []
        for id in Set(regions.keys).union(regionHealth.keys).sorted() {
            var f = regions[id] ?? Figures()
            f.health = regionHealth[id] ?? HealthCounts()
            var row = row(.region, id: id, region: "", f, Self.latency(f.buckets, mergingInto: &fleetHist))
            row.name = Self.regionNames[id] ?? id
            regionRows.append(row)
            fleet.health.add(f.health)
            if f.errors.isFinite { fleet.errors = (fleet.errors.isNaN ? 0 : fleet.errors) + f.errors }
            if f.util.isFinite && f.gpus > 0 { utilSum += f.util * Double(f.gpus); utilGPUs += f.gpus }
            fleet.gpus += f.gpus
            if f.temp.isFinite { fleet.temp = fleet.temp.isNaN ? f.temp : max(fleet.temp, f.temp) }
            if f.age.isFinite { fleet.age = fleet.age.isNaN ? f.age : max(fleet.age, f.age) }
            fleet.read = fleet.read || f.read
        }
        fleet.util = utilGPUs > 0 ? utilSum / Double(utilGPUs) : .nan
        var summary = fleetHist.summary()
        summary.bucketBounded = summary.count > 0
        var fleetRow = row(.fleet, id: "fleet", region: "", fleet, summary)
        fleetRow.name = "Fleet"
        return (fleetRow, regionRows, siteRows, fleetHist.compacted())
    }

    /// The summary (bucket-bounded) of cumulative buckets.
    static func latency(_ buckets: [(Double, Double)]) -> LatencySummary {
        var h = RollupHistogram()
        return latency(buckets, mergingInto: &h)
    }

    /// The summary of cumulative buckets, whose counts are also added to `total`.
    static func latency(_ buckets: [(Double, Double)], mergingInto total: inout RollupHistogram) -> LatencySummary {
        var h = RollupHistogram()
        PrometheusQuerySource.unpack(buckets) { h.record($0, count: $1); total.record($0, count: $1) }
        var s = h.summary()
        s.bucketBounded = s.count > 0
        return s
    }

    func row(_ kind: GroupKind, id: String, region: String, _ f: Figures, _ latency: LatencySummary) -> GroupStatus {
        let requests = Double(latency.count)
        let errors = f.errors.isFinite ? f.errors : 0
        return GroupStatus(kind: kind, id: id, name: id, region: region, country: "", health: f.health, latency: latency,
                           rps: f.read ? requests / window : .nan,
                           errorRatio: f.read ? (requests + errors > 0 ? errors / (requests + errors) : 0) : .nan,
                           gpuUtilPct: f.util, gpuTempMaxC: f.temp, gpuCount: f.gpus, ageS: f.age,
                           tierMs: LatencyTierDefaults.unknownNodeTierMs)
    }
}
