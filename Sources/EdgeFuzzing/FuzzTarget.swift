/// The fuzzed parsers. Each harness feeds one input to a parser and checks an invariant beyond
/// "no crash"; a broken invariant is returned as a one-line description (the libFuzzer entry
/// point turns it into a crash, the tests into a failure).
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// Prometheus text 0.0.4 and OpenMetrics 1.0, then the scrape mapper.
    case exposition
    /// StatsD / DogStatsD datagrams.
    case statsd
    /// OTLP/HTTP JSON metrics bodies.
    case otlp
    /// Replay / recording JSON Lines.
    case replay
    /// The YAML fleet config.
    case config
    /// Prometheus HTTP API answers (instant vector and range matrix).
    case promapi
    /// The built-in server's request heads and the client's response parser.
    case http
    /// gzip / zlib bodies (OTLP requests and scraped pages).
    case gzip

    /// Runs the harness on one input; nil when every invariant holds.
    public func run(_ input: [UInt8]) -> String? {
        switch self {
        case .exposition: ExpositionHarness.run(input)
        case .statsd: StatsDHarness.run(input)
        case .otlp: OTLPHarness.run(input)
        case .replay: ReplayHarness.run(input)
        case .config: ConfigHarness.run(input)
        case .promapi: PrometheusAPIHarness.run(input)
        case .http: HTTPHarness.run(input)
        case .gzip: GzipHarness.run(input)
        }
    }
}

/// Helpers the harnesses share.
enum Invariant {
    /// An error message a user reads: one non-empty line.
    static func oneLine(_ message: String, _ what: String) -> String? {
        if message.isEmpty { return "\(what): empty error message" }
        if message.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F || $0 == "\u{2028}" || $0 == "\u{2029}" }) {
            return "\(what): error message holds control characters: \(message.debugDescription.prefix(120))"
        }
        return nil
    }

    /// Bit-equal, or both NaN.
    static func same(_ a: Double, _ b: Double) -> Bool { a == b || (a.isNaN && b.isNaN) }

    /// Equal within a few units in the last place: Foundation's JSON parser rounds some
    /// decimals one ulp, and numbers past 2^64 (read as NSDecimalNumber) a few ulps, away
    /// from the correctly rounded value that strtod and Swift's `Double(_:)` give.
    static func nearlySame(_ a: Double, _ b: Double) -> Bool {
        same(a, b) || (a.isFinite && b.isFinite && abs(a - b) <= 4 * max(abs(a), abs(b)).ulp)
    }
}
