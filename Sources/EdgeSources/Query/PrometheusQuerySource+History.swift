import EdgeCollector
import EdgeCore
import Foundation

/// History through `query_range`, so `--prometheus` has the same time dimension as the local
/// collector: one range query per figure per level (`by (region|site|node)`, limited to the
/// entities asked for), over the same span. Steps are never finer than `minStepSeconds`:
/// a 10 s scrape has nothing to say about one second. Latency quantiles come from the
/// tier-aligned buckets (bucket-bounded, as in the instant view).
extension PrometheusQuerySource: HistoryProvider {
    /// The finest step asked of Prometheus (twice a typical 10 s scrape interval is needed for
    /// `rate` to see two samples; 15 s keeps the 15 min span at 60 points).
    public static let minStepSeconds = 15.0

    /// Range queries say nothing new within one step: the same entities and span asked again
    /// within a step of the last read get that read (the live view asks on every refresh, and
    /// the fleet's 15 minutes of every bucket series cost Prometheus seconds of CPU).
    public func history(of entities: [HistoryEntity], span: HistorySpan, at now: Double) -> [HistoryEntity: HistorySeries] {
        let step = max(span.stepSeconds, Self.minStepSeconds)
        let key = HistoryKey(entities: entities, span: span)
        if let c = lock.withLock({ historyCache[key] }), now >= c.at, now - c.at < step { return c.value }
        let value = readHistory(of: entities, span: span, at: now)
        lock.withLock {
            if historyCache.count >= 8 { historyCache.removeAll() }
            historyCache[key] = (now, value)
        }
        return value
    }

    func readHistory(of entities: [HistoryEntity], span: HistorySpan, at now: Double) -> [HistoryEntity: HistorySeries] {
        let step = max(span.stepSeconds, Self.minStepSeconds)
        let count = Int((Double(span.steps) * span.stepSeconds / step).rounded())
        let end = now  // the newest point is now: a young Prometheus has data only there
        let start = end - Double(count - 1) * step
        var byLevel: [String: [(HistoryEntity, String)]] = [:]
        var fleet = false
        for e in entities {
            switch e {
            case .fleet: fleet = true
            case .region(let id): byLevel[regionLabel, default: []].append((e, id))
            case .site(let id): byLevel[siteLabel, default: []].append((e, id))
            case .node(let id): byLevel[nodeLabel, default: []].append((e, id))
            }
        }
        var out: [HistoryEntity: HistorySeries] = [:]
        let w = "\(Int((2 * step).rounded()))s"
        // Points come back at millisecond precision: match them to steps by index.
        func index(_ t: Double) -> Int { Int(((t - start) / step).rounded()) }
        func figures(by label: String?, ids: [String]) -> [String: [Figure: [Int: Double]]] {
            let matcher = label.map { "\($0)=~\"\(ids.map(Self.regexEscape).joined(separator: "|"))\"" }
            func sel(_ name: String, _ extra: String? = nil) -> String { Self.selector(name, matcher, extra) }
            let by = label.map { "by (\($0), le)" } ?? "by (le)"
            let group = label.map { "by (\($0))" } ?? ""
            let queries: [(Figure, String)] = [
                (.buckets, "sum \(by) (rate(\(sel("edgetop_request_latency_seconds_bucket"))[\(w)])) * \(Int(step))"),
                (.errors, "sum \(group) (rate(\(sel("edgetop_node_request_errors_total"))[\(w)])) * \(Int(step))"),
                (.utilMean, "avg \(group) (\(sel("edgetop_gpu_utilization_ratio"))) * 100"),
                (.utilMax, "max \(group) (\(sel("edgetop_gpu_utilization_ratio"))) * 100"),
                (.tempMean, "avg \(group) (\(sel("edgetop_gpu_temperature_celsius")))"),
                (.tempMax, "max \(group) (\(sel("edgetop_gpu_temperature_celsius")))"),
                (.healthy, "count \(group) (\(sel("edgetop_node_health", "state=\"healthy\"")) == 1)"),
                (.degraded, "count \(group) (\(sel("edgetop_node_health", "state=\"degraded\"")) == 1)"),
                (.down, "count \(group) (\(sel("edgetop_node_health", "state=\"down\"")) == 1)"),
                (.stale, "count \(group) (\(sel("edgetop_node_health", "state=\"stale\"")) == 1)"),
            ]
            let answers = rangeQueries(queries.map(\.1), start: start, end: end, step: step)
            var result: [String: [Figure: [Int: Double]]] = [:]
            var buckets: [String: [Int: [(Double, Double)]]] = [:]
            for (i, (figure, _)) in queries.enumerated() {
                for series in answers[i] {
                    let key = label.flatMap { series.labels[$0] } ?? ""
                    if figure == .buckets {
                        guard let le = series.labels["le"].flatMap({ Double($0.replacingOccurrences(of: "Inf", with: "inf")) }) else { continue }
                        for (t, v) in series.values { buckets[key, default: [:]][index(t), default: []].append((le, v)) }
                    } else {
                        for (t, v) in series.values { result[key, default: [:]][figure, default: [:]][index(t)] = v }
                    }
                }
            }
            // Per step: the request count (+Inf bucket) and quantiles as bucket bounds.
            for (key, steps) in buckets {
                for (t, list) in steps {
                    let sorted = list.sorted { $0.0 < $1.0 }
                    guard let total = sorted.last?.1, total > 0 else { result[key, default: [:]][.count, default: [:]][t] = 0; continue }
                    result[key, default: [:]][.count, default: [:]][t] = total
                    for (figure, q) in [(Figure.p50, 0.5), (.p99, 0.99)] {
                        let bound = sorted.first { $0.1 >= q * total }?.0 ?? .infinity
                        let finite = bound.isFinite ? bound : sorted.last { $0.0.isFinite }?.0 ?? .nan
                        result[key, default: [:]][figure, default: [:]][t] = finite * 1000
                    }
                }
            }
            return result
        }
        func series(_ figs: [Figure: [Int: Double]]?) -> HistorySeries {
            var steps: [HistoryStep] = []
            for i in 0..<count {
                func v(_ f: Figure) -> Double { figs?[f]?[i] ?? .nan }
                let health = HealthCounts(healthy: Int(v(.healthy).nanToZero), degraded: Int(v(.degraded).nanToZero),
                                          down: Int(v(.down).nanToZero), stale: Int(v(.stale).nanToZero))
                guard health.total > 0 || !v(.count).isNaN else { steps.append(.empty); continue }
                steps.append(HistoryStep(hasData: true, count: UInt64(max(0, v(.count).nanToZero).rounded()),
                                         errors: UInt64(max(0, v(.errors).nanToZero).rounded()), p50: v(.p50), p99: v(.p99),
                                         gpuUtilMean: v(.utilMean), gpuUtilMax: v(.utilMax), gpuTempMean: v(.tempMean),
                                         gpuTempMax: v(.tempMax), health: health))
            }
            // Range points are at step ends; a step covers the interval before its point.
            return HistorySeries(stepSeconds: step, t0: start - step, steps: steps)
        }
        if fleet { out[.fleet] = series(figures(by: nil, ids: [])[""]) }
        for (label, list) in byLevel {
            for chunk in stride(from: 0, to: list.count, by: 200).map({ Array(list[$0..<min(list.count, $0 + 200)]) }) {
                let figs = figures(by: label, ids: chunk.map(\.1))
                for (e, id) in chunk { out[e] = series(figs[id]) }
            }
        }
        return out
    }

    enum Figure: Hashable { case buckets, count, errors, p50, p99, utilMean, utilMax, tempMean, tempMax, healthy, degraded, down, stale }

    static func regexEscape(_ s: String) -> String {
        var out = ""
        for c in s {
            if "\\.+*?()|[]{}^$".contains(c) { out += "\\\\" }
            if c == "\"" { out += "\\" }
            out.append(c)
        }
        return out
    }

    /// Runs range queries concurrently and waits for all; a failed one answers nothing (and is
    /// counted against the source).
    func rangeQueries(_ queries: [String], start: Double, end: Double, step: Double) -> [[PrometheusAPI.RangeSeries]] {
        final class Results: @unchecked Sendable {
            let lock = NSLock()
            var values: [[PrometheusAPI.RangeSeries]]
            var problems: [String] = []
            init(_ n: Int) { values = Array(repeating: [], count: n) }
        }
        let results = Results(queries.count)
        let group = DispatchGroup()
        for (i, q) in queries.enumerated() {
            group.enter()
            client.queryRange(q, start: start, end: end, step: step, client: httpClient) { result in
                results.lock.lock()
                switch result {
                case .success(let s): results.values[i] = s
                case .failure(let e): results.problems.append("\(e)")
                }
                results.lock.unlock()
                group.leave()
            }
        }
        group.wait()
        if let first = results.problems.first { record(samples: 0, problems: ["history: \(first)"]) }
        return results.values
    }
}

extension Double {
    var nanToZero: Double { isNaN ? 0 : self }
}

extension PrometheusAPI {
    /// One series of a range-query answer: (time, value) points.
    public struct RangeSeries: Sendable, Equatable {
        public var labels: [String: String]
        public var values: [(Double, Double)]
        public static func == (a: RangeSeries, b: RangeSeries) -> Bool {
            a.labels == b.labels && a.values.count == b.values.count
                && zip(a.values, b.values).allSatisfy { $0.0 == $1.0 && ($0.1 == $1.1 || ($0.1.isNaN && $1.1.isNaN)) }
        }
    }

    /// Parses a `/api/v1/query_range` body (`resultType` matrix).
    public static func decodeMatrix(_ body: [UInt8], status: Int = 200) throws -> [RangeSeries] {
        guard let o = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
            throw Failure(description: "HTTP \(status): not a Prometheus API answer")
        }
        if o["status"] as? String == "error" {
            throw Failure(description: "\(o["errorType"] as? String ?? "error"): \(o["error"] as? String ?? "unknown")")
        }
        guard o["status"] as? String == "success", let data = o["data"] as? [String: Any],
              data["resultType"] as? String == "matrix" else { throw Failure(description: "expected a matrix answer") }
        var out: [RangeSeries] = []
        for r in data["result"] as? [[String: Any]] ?? [] {
            var points: [(Double, Double)] = []
            for p in r["values"] as? [[Any]] ?? [] {
                guard p.count == 2, let t = (p[0] as? NSNumber)?.doubleValue, let text = p[1] as? String,
                      let v = Double(text) ?? special(text) else { throw Failure(description: "malformed point in the answer") }
                points.append((t, v))
            }
            out.append(RangeSeries(labels: r["metric"] as? [String: String] ?? [:], values: points))
        }
        return out
    }
}

extension PrometheusClient {
    /// Runs a range query; `completion` runs once, on the HTTP client's thread.
    public func queryRange(_ promql: String, start: Double, end: Double, step: Double, client http: HTTPClient,
                           completion: @escaping @Sendable (Result<[PrometheusAPI.RangeSeries], any Error>) -> Void) {
        var components = URLComponents(url: base.appendingPathComponent("api/v1/query_range"), resolvingAgainstBaseURL: false)!
        components.queryItems = [URLQueryItem(name: "query", value: promql), URLQueryItem(name: "start", value: String(start)),
                                 URLQueryItem(name: "end", value: String(end)), URLQueryItem(name: "step", value: String(step))]
        components.percentEncodedQuery = components.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B")
        var headers: [(name: String, value: String)] = [("Accept", "application/json")]
        if let authorization { headers.append(("Authorization", authorization)) }
        http.get(HTTPClientRequest(url: components.url!, headers: headers, timeout: timeout)) { result in
            switch result {
            case .success(let r):
                do { completion(.success(try PrometheusAPI.decodeMatrix(r.body, status: r.status))) } catch { completion(.failure(error)) }
            case .failure(let e): completion(.failure(e))
            }
        }
    }
}
