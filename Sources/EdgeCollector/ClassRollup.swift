import EdgeCore

/// Per-class totals of a group while its nodes are summarised: each class's histogram merged
/// from its nodes' (never its p99s averaged), its errors, good requests and SLO windows summed.
/// Reused across groups (`reset` clears only what was used).
struct ClassRollup: ~Copyable {
    private static let count = WorkloadClass.allCases.count
    var histograms = ClassHistograms()
    var errors = [UInt64](repeating: 0, count: ClassRollup.count)
    var good = [UInt64](repeating: 0, count: ClassRollup.count)
    var windows = [SLOWindows](repeating: SLOWindows(), count: ClassRollup.count)
    var present = [Bool](repeating: false, count: ClassRollup.count)

    mutating func reset() {
        for i in present.indices where present[i] {
            histograms.with(i) { $0.reset() }; errors[i] = 0; good[i] = 0; windows[i] = SLOWindows(); present[i] = false
        }
    }

    /// Adds one node's (or group's) class figures, with the histogram they came from.
    mutating func add(_ c: WorkloadClass, histogram h: borrowing RollupHistogram, errors e: UInt64, good g: UInt64, windows w: SLOWindows) {
        histograms.with(Int(c.rawValue)) { $0.merge(h) }
        tally(Int(c.rawValue), errors: e, good: g, windows: w)
    }

    mutating func add(_ c: WorkloadClass, histogram h: CompactHistogram, errors e: UInt64, good g: UInt64, windows w: SLOWindows) {
        histograms.with(Int(c.rawValue)) { $0.merge(h) }
        tally(Int(c.rawValue), errors: e, good: g, windows: w)
    }

    mutating func add(_ o: borrowing ClassRollup) {
        for i in o.present.indices where o.present[i] {
            o.histograms.read(i) { h in histograms.with(i) { $0.merge(h) } }
            tally(i, errors: o.errors[i], good: o.good[i], windows: o.windows[i])
        }
    }

    /// The counts beside a class's histogram (every `add` merges the histogram its own way).
    private mutating func tally(_ i: Int, errors e: UInt64, good g: UInt64, windows w: SLOWindows) {
        errors[i] &+= e; good[i] &+= g; windows[i].add(w)
        present[i] = true
    }

    /// Merges every class's histogram into `h` (the group's own).
    func mergeAll(into h: inout RollupHistogram) {
        for i in present.indices where present[i] { histograms.read(i) { h.merge($0) } }
    }

    /// The group's classes, in class order.
    func statuses() -> [ClassStatus] {
        var out: [ClassStatus] = []
        for i in present.indices where present[i] {
            out.append(ClassStatus(workload: WorkloadClass(rawValue: UInt8(i))!, latency: histograms.read(i) { $0.summary() },
                                   errors: errors[i], good: good[i], windows: windows[i]))
        }
        return out
    }

    /// A copy whose histograms are compact (for the fleet merge across region queues).
    func compacted() -> CompactClassRollup {
        var c = CompactClassRollup()
        for i in present.indices where present[i] {
            c.parts.append((WorkloadClass(rawValue: UInt8(i))!, histograms.read(i) { $0.compacted() }, errors[i], good[i], windows[i]))
        }
        return c
    }
}

/// A region's per-class figures, handed from its queue to the fleet merge.
struct CompactClassRollup: Sendable {
    var parts: [(WorkloadClass, CompactHistogram, UInt64, UInt64, SLOWindows)] = []
}

/// One histogram per workload class (histograms are noncopyable, so no array holds them).
struct ClassHistograms: ~Copyable {
    var h0 = RollupHistogram(), h1 = RollupHistogram(), h2 = RollupHistogram()
    var h3 = RollupHistogram(), h4 = RollupHistogram(), h5 = RollupHistogram()

    mutating func with<R>(_ i: Int, _ body: (inout RollupHistogram) -> R) -> R {
        switch i {
        case 0: body(&h0)
        case 1: body(&h1)
        case 2: body(&h2)
        case 3: body(&h3)
        case 4: body(&h4)
        default: body(&h5)
        }
    }

    func read<R>(_ i: Int, _ body: (borrowing RollupHistogram) -> R) -> R {
        switch i {
        case 0: body(h0)
        case 1: body(h1)
        case 2: body(h2)
        case 3: body(h3)
        case 4: body(h4)
        default: body(h5)
        }
    }
}
