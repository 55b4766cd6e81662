import EdgeSources

/// StatsD / DogStatsD: every non-empty line gives at least one verdict (a bad line never
/// swallows its neighbours); a metric has a name, finite values, a weight of 1…1,000,000 and a
/// finite timestamp; a line parsed alone gives what it gave inside the datagram; reasons are
/// one line.
enum StatsDHarness {
    static func run(_ input: [UInt8]) -> String? {
        let results = StatsDParser.parse(datagram: input)
        let lines = input.split(separator: 0x0A).filter { !($0.count == 1 && $0.first == 0x0D) }
        if results.count < lines.count { return "\(lines.count) lines, \(results.count) verdicts" }
        for r in results {
            switch r {
            case .failure(let f): if let bad = Invariant.oneLine(f.reason, "statsd") { return bad }
            case .success(.metric(let m)):
                if m.name.isEmpty { return "metric without a name" }
                if m.values.isEmpty && m.kind != .set { return "\(m.name): no values" }
                if let v = m.values.first(where: { !$0.isFinite }) { return "\(m.name): value \(v)" }
                if m.weight < 1 || m.weight > 1_000_000 { return "\(m.name): weight \(m.weight)" }
                if let t = m.timestamp, !t.isFinite { return "\(m.name): timestamp \(t)" }
            case .success: break
            }
        }
        // Alone, a single-record line reads as it did in the datagram.
        if lines.count == 1, results.count == 1 {
            let alone = StatsDParser.parse(line: Array(lines[0]))
            if !same(alone, results[0]) { return "line alone reads differently: \(alone) vs \(results[0])" }
        }
        return nil
    }

    static func same(_ a: Result<StatsDLine, StatsDParser.Failure>, _ b: Result<StatsDLine, StatsDParser.Failure>) -> Bool {
        switch (a, b) {
        case (.success(.metric(let x)), .success(.metric(let y))):
            return x.name == y.name && x.kind == y.kind && x.tags == y.tags && x.relative == y.relative
                && Invariant.same(x.sampleRate, y.sampleRate) && x.values.count == y.values.count
                && zip(x.values, y.values).allSatisfy { Invariant.same($0, $1) }
                && (x.timestamp == nil) == (y.timestamp == nil) && Invariant.same(x.timestamp ?? 0, y.timestamp ?? 0)
        default: return a == b
        }
    }
}
