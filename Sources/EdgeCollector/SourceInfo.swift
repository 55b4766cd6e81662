import EdgeCore

/// What kind of source measured a sample. It decides, with the sample's precision, which of a
/// node's latency series counts when several sources report the same requests.
public enum SourceKind: String, Sendable, CaseIterable {
    /// The collector's own input: the simulator, a replay, the query backend.
    case direct
    case statsd
    case otlp
    case scrape

    /// Tie-break between series of equal precision: per-sample sources first.
    var preference: Int {
        switch self {
        case .direct: 0
        case .statsd: 1
        case .otlp: 2
        case .scrape: 3
        }
    }
}

/// A registered source: its name as the operator knows it, its kind, and the service whose
/// requests it measures.
///
/// **One request, one count.** A node's latency is never the sum of two sources that may have
/// seen the same requests (vLLM's scraped histogram and the app's StatsD timings of the same
/// calls). Per node, sources with the same `service` compete and only the most exact one
/// counts; the others are shown beside it. Only sources that the configuration puts in
/// *different* services are summed, so double counting takes an explicit, wrong statement,
/// never an accident.
public struct SourceInfo: Sendable, Equatable {
    public var name: String
    public var kind: SourceKind
    /// "" unless configured (`service=` on a source); labels and tags never set it.
    public var service: String

    public init(name: String, kind: SourceKind, service: String = "") {
        self.name = name; self.kind = kind; self.service = service
    }
}
