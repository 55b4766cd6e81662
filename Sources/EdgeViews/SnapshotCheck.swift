import EdgeCollector
import EdgeCore

/// A `--check` expression such as `p99<500ms`, `down==0`, `stale<=5`, `gpu_util<95`.
///
/// Fields: `p50`, `p90`, `p99`, `max` (latency; units `us`, `ms` (default), `s`), `count`,
/// `healthy`, `degraded`, `down`, `stale`, `nodes`, `gpu_util` (%), `gpu_temp` (°C), `rps`,
/// `age` (seconds; `ms`, `s`, `m`), `errors` (%). Evaluated on the snapshot's scope: the fleet,
/// or the region, site or node named by `--region`/`--site`/`--node`.
///
/// Workload classes: `burn(CLASS,WINDOW)` is the error-budget burn rate over `5m`, `30m`, `1h`
/// or `6h` (`burn(code_completion,1h)<14.4`); `slo(CLASS)` the fraction of the window's
/// requests within the class's tier, `slo(CLASS,1h)` over an SLO window (`0.99` or `99%`);
/// `budget(CLASS)` the 6 h error budget left (`budget(batch)>0`).
public struct SnapshotCheck: Sendable, Equatable {
    public enum Op: String, Sendable, CaseIterable { case le = "<=", ge = ">=", eq = "==", ne = "!=", lt = "<", gt = ">" }
    /// A per-class figure.
    public enum ClassFigure: Sendable, Equatable {
        case burn(WorkloadClass, window: Int)
        /// Within-tier fraction: over the sliding window (nil) or an SLO window.
        case slo(WorkloadClass, window: Int?)
        case budget(WorkloadClass)

        public var workload: WorkloadClass {
            switch self { case .burn(let w, _), .slo(let w, _), .budget(let w): w }
        }
    }
    public var text: String
    public var field: String
    public var op: Op
    public var threshold: Double
    public var classFigure: ClassFigure?

    public struct ParseError: Error, CustomStringConvertible {
        public var description: String
    }

    static let latencyFields: Set<String> = ["p50", "p90", "p99", "max"]
    static let fields: Set<String> = latencyFields.union(["count", "healthy", "degraded", "down", "stale", "nodes",
                                                          "gpu_util", "gpu_temp", "rps", "age", "errors"])

    public init(_ text: String) throws {
        self.text = text
        let compact = text.filter { !$0.isWhitespace }
        guard let op = Op.allCases.first(where: { compact.contains($0.rawValue) }),
              let range = compact.range(of: op.rawValue) else {
            throw ParseError(description: "invalid --check \"\(text)\": expected FIELD OP VALUE, e.g. p99<500ms")
        }
        let field = String(compact[..<range.lowerBound]).lowercased()
        if field.contains("(") {
            let figure = try Self.classFigure(field, text)
            var valueText = String(compact[range.upperBound...])
            var scale = 1.0
            if valueText.hasSuffix("%") { valueText.removeLast(); scale = 0.01 }
            if case .burn = figure { scale = 1 }
            if valueText.hasSuffix("x") || valueText.hasSuffix("×") { valueText.removeLast() }
            guard let v = Double(valueText), v.isFinite else {
                throw ParseError(description: "invalid --check \"\(text)\": \"\(compact[range.upperBound...])\" is not a number")
            }
            self.field = field; self.op = op; threshold = v * scale; classFigure = figure
            return
        }
        guard Self.fields.contains(field) else {
            throw ParseError(description: "invalid --check \"\(text)\": unknown field \"\(field)\" (one of \(Self.fields.sorted().joined(separator: ", ")))")
        }
        var valueText = String(compact[range.upperBound...]).lowercased()
        var scale = 1.0
        let isLatency = Self.latencyFields.contains(field)
        for (suffix, s) in [("ms", isLatency ? 1.0 : 0.001), ("us", 0.001), ("µs", 0.001), ("s", isLatency ? 1000 : 1), ("m", 60), ("%", 1)]
        where valueText.hasSuffix(suffix) {
            if suffix == "m" && field != "age" { continue }
            valueText.removeLast(suffix.count)
            scale = s
            break
        }
        guard let v = Double(valueText), v.isFinite else {
            throw ParseError(description: "invalid --check \"\(text)\": \"\(compact[range.upperBound...])\" is not a number")
        }
        self.field = field
        self.op = op
        threshold = v * scale
    }

    /// Parses `burn(CLASS,WINDOW)`, `slo(CLASS[,WINDOW])`, `budget(CLASS)`.
    static func classFigure(_ field: String, _ text: String) throws(ParseError) -> ClassFigure {
        func fail(_ why: String) -> ParseError { ParseError(description: "invalid --check \"\(text)\": \(why)") }
        guard field.hasSuffix(")"), let open = field.firstIndex(of: "(") else { throw fail("expected NAME(CLASS[,WINDOW])") }
        let name = field[..<open]
        let args = field[field.index(after: open)..<field.index(before: field.endIndex)].split(separator: ",", omittingEmptySubsequences: false)
        guard let first = args.first, let workload = WorkloadClass(exactly: first) else {
            throw fail("unknown class \"\(args.first ?? "")\" (one of \(WorkloadClass.allCases.map(\.id).joined(separator: ", ")))")
        }
        func window(_ w: Substring) throws(ParseError) -> Int {
            guard let i = SLOWindows.index(of: String(w)) else {
                throw fail("unknown window \"\(w)\" (one of \(SLOWindows.names.joined(separator: ", ")))")
            }
            return i
        }
        switch (name, args.count) {
        case ("burn", 2): return .burn(workload, window: try window(args[1]))
        case ("slo", 1): return .slo(workload, window: nil)
        case ("slo", 2): return .slo(workload, window: try window(args[1]))
        case ("budget", 1): return .budget(workload)
        default: throw fail("expected burn(CLASS,WINDOW), slo(CLASS[,WINDOW]) or budget(CLASS)")
        }
    }

    /// What a scope names: a node, or a site, a region or the fleet.
    private enum Entity {
        case node(NodeStatus), group(GroupStatus)

        var classes: [ClassStatus] {
            switch self {
            case .node(let n): n.classes
            case .group(let g): g.classes
            }
        }

        /// The entity of `scope` in `snap`; nil when it is not there.
        init?(_ snap: FleetSnapshot, _ scope: Scope) {
            if let id = scope.node {
                guard let n = snap.nodes.first(where: { $0.id == id }) else { return nil }
                self = .node(n)
            } else if let id = scope.site {
                guard let g = snap.sites.first(where: { $0.id == id }) else { return nil }
                self = .group(g)
            } else if let id = scope.region {
                guard let g = snap.regions.first(where: { $0.id == id }) else { return nil }
                self = .group(g)
            } else {
                self = .group(snap.fleet)
            }
        }
    }

    /// The value the check reads, in its base unit (ms for latency, seconds for age).
    public func value(in snap: FleetSnapshot, scope: Scope) -> Double? {
        guard let entity = Entity(snap, scope) else { return nil }
        if let figure = classFigure {
            guard let c = entity.classes.first(where: { $0.workload == figure.workload }) else { return .nan }
            let target = snap.classCatalog[figure.workload].sloTarget
            switch figure {
            case .burn(_, let i): return c.burnRate(i, target: target)
            case .slo(_, nil): return c.withinTierFraction
            case .slo(_, let i?): return c.windows[i].goodFraction
            case .budget: return c.budgetRemaining(target: target)
            }
        }
        switch entity {
        case .node(let n):
            var h = HealthCounts(); h.add(n.health)
            return read(latency: n.latency, health: h, util: n.gpuUtilPct, temp: n.gpuTempMaxC, rps: n.rps, age: n.ageS, errors: n.errorRatio)
        case .group(let g):
            return read(latency: g.latency, health: g.health, util: g.gpuUtilPct, temp: g.gpuTempMaxC, rps: g.rps, age: g.ageS, errors: g.errorRatio)
        }
    }

    private func read(latency l: LatencySummary, health h: HealthCounts, util: Double, temp: Double, rps: Double,
                      age: Double, errors: Double) -> Double {
        switch field {
        case "p50": l.p50
        case "p90": l.p90
        case "p99": l.p99
        case "max": l.max
        case "count": Double(l.count)
        case "healthy": Double(h.healthy)
        case "degraded": Double(h.degraded)
        case "down": Double(h.down)
        case "stale": Double(h.stale)
        case "nodes": Double(h.total)
        case "gpu_util": util
        case "gpu_temp": temp
        case "rps": rps
        case "age": age
        default: errors * 100
        }
    }

    /// nil when the check holds, else a one-line reason. A figure with no data fails the check.
    public func failure(in snap: FleetSnapshot, scope: Scope) -> String? {
        let where_ = scope.node ?? scope.site ?? scope.region ?? "fleet"
        guard let v = value(in: snap, scope: scope) else { return "check \(text): \(where_) not found" }
        guard v.isFinite else {
            if let w = classFigure?.workload { return "check \(text) failed: \(where_) has no \(w.id) requests" }
            return "check \(text) failed: \(where_) has no \(field) data"
        }
        let ok: Bool
        switch op {
        case .lt: ok = v < threshold
        case .le: ok = v <= threshold
        case .gt: ok = v > threshold
        case .ge: ok = v >= threshold
        case .eq: ok = v == threshold
        case .ne: ok = v != threshold
        }
        if ok { return nil }
        let shown: String
        switch classFigure {
        case .burn?: shown = Formatting.fixed(v, 2) + "×"
        case .slo?, .budget?: shown = Formatting.fixed(v * 100, 2) + "%"
        case nil: shown = Self.latencyFields.contains(field) ? Formatting.msUnit(v) : (v == v.rounded() ? String(Int(v)) : Formatting.fixed(v, 2))
        }
        return "check \(text) failed: \(where_) \(field) is \(shown)"
    }
}
