import EdgeCollector
import EdgeCore

extension SnapshotDocument {
    /// Prometheus text format 0.0.4 of the view: health counts, latency quantiles (seconds),
    /// request rate and GPU figures per fleet/region/site, and per node when the view lists
    /// nodes. Passes `promtool check metrics`.
    public func prometheus() -> String {
        var families: [(name: String, help: String, lines: [String])] = [
            ("edgetop_nodes", "Nodes by health state.", []),
            // Gauges, one family per quantile: a `quantile` label belongs to summaries only.
            ("edgetop_latency_p50_seconds", "Median request latency over the window, from merged histograms.", []),
            ("edgetop_latency_p90_seconds", "90th percentile request latency over the window, from merged histograms.", []),
            ("edgetop_latency_p99_seconds", "99th percentile request latency over the window, from merged histograms.", []),
            ("edgetop_latency_window_requests", "Requests with a latency sample in the window.", []),
            ("edgetop_requests_per_second", "Requests per second over the window.", []),
            ("edgetop_gpu_utilization_ratio", "Mean GPU utilisation, 0 to 1.", []),
            ("edgetop_gpu_temperature_max_celsius", "Hottest GPU temperature.", []),
            ("edgetop_data_age_seconds", "Oldest data age among the nodes.", []),
            ("edgetop_class_within_tier_ratio", "Share of a workload class's requests in the window served within its tier (exact).", []),
            ("edgetop_class_burn_rate", "Error-budget burn rate of a workload class over an SLO window: (1 - good share) / (1 - target).", []),
            ("edgetop_class_window_requests", "Requests of a workload class in the window.", []),
        ]
        let esc = MetricsExporter.escape, num = MetricsExporter.number
        func add(_ family: Int, _ labels: String, _ v: Double) {
            families[family].lines.append("\(families[family].name){\(labels)} \(num(v))")
        }
        func group(_ g: GroupStatus) {
            var labels = "scope=\"\(g.kind.rawValue)\",id=\"\(esc(g.id))\""
            if g.kind == .site { labels += ",region=\"\(esc(g.region))\"" }
            for s in HealthState.allCases { add(0, labels + ",state=\"\(s.label.lowercased())\"", Double(g.health[s])) }
            latency(labels, g.latency)
            add(5, labels, g.rps)
            add(6, labels, g.gpuUtilPct / 100)
            add(7, labels, g.gpuTempMaxC)
            add(8, labels, g.ageS)
            classes(labels, g.classes)
        }
        func classes(_ labels: String, _ list: [ClassStatus]) {
            for c in list {
                let l = labels + ",class=\"\(c.workload.id)\""
                add(9, l, c.withinTierFraction)
                for (i, name) in SLOWindows.names.enumerated() {
                    add(10, l + ",window=\"\(name)\"", c.burnRate(i, target: snapshot.classCatalog[c.workload].sloTarget))
                }
                add(11, l, Double(c.requests))
            }
        }
        func latency(_ labels: String, _ l: LatencySummary) {
            add(1, labels, l.p50 / 1000)
            add(2, labels, l.p90 / 1000)
            add(3, labels, l.p99 / 1000)
            add(4, labels, Double(l.count))
        }
        group(snapshot.fleet)
        for r in snapshot.regions where scope.region == nil || r.id == scope.region { group(r) }
        if includesSites {
            for s in snapshot.sites where (scope.region == nil || s.region == scope.region) && (scope.site == nil || s.id == scope.site) {
                group(s)
            }
        }
        if includesNodes {
            for n in FleetTables.scopedNodes(snapshot, scope) {
                let labels = "scope=\"node\",id=\"\(esc(n.id))\",site=\"\(esc(n.site))\",region=\"\(esc(n.region))\""
                for s in HealthState.allCases { add(0, labels + ",state=\"\(s.label.lowercased())\"", n.health == s ? 1 : 0) }
                latency(labels, n.latency)
                add(5, labels, n.rps)
                add(6, labels, n.gpuUtilPct / 100)
                add(7, labels, n.gpuTempMaxC)
                add(8, labels, n.ageS)
                classes(labels, n.classes)
            }
        }
        var out = ""
        for f in families where !f.lines.isEmpty {
            out += "# HELP \(f.name) \(f.help)\n# TYPE \(f.name) gauge\n"
            for l in f.lines { out += l + "\n" }
        }
        return out
    }
}
