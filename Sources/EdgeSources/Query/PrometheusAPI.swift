import EdgeCore
import Foundation

/// One series of an instant-query answer.
public struct VectorSample: Sendable, Equatable {
    public var labels: [String: String]
    public var value: Double
}

/// Decodes Prometheus HTTP API envelopes (Prometheus, Thanos and Mimir answer alike):
/// `{"status":"success","data":{"resultType":"vector","result":[…]},"warnings":[…]}` or
/// `{"status":"error","errorType":"…","error":"…"}`; sample values are strings.
public enum PrometheusAPI {
    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        public var description: String
        /// Quoted answer text is made printable: a failure is one line.
        public init(description: String) { self.description = PrintableText.line(description) }
    }

    public struct Answer: Sendable, Equatable {
        public var samples: [VectorSample]
        public var warnings: [String]
    }

    /// Parses a `/api/v1/query` body (any HTTP status: errors come in the same envelope).
    public static func decodeVector(_ body: [UInt8], status: Int = 200) throws -> Answer {
        guard let o = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
            let text = String(decoding: body.prefix(120), as: UTF8.self).split(separator: "\n").first.map(String.init) ?? ""
            throw Failure(description: "HTTP \(status): \(text.isEmpty ? "not a Prometheus API answer" : text)")
        }
        if o["status"] as? String == "error" {
            throw Failure(description: "\(o["errorType"] as? String ?? "error"): \(o["error"] as? String ?? "unknown")")
        }
        guard o["status"] as? String == "success", let data = o["data"] as? [String: Any] else {
            throw Failure(description: "answer without status success")
        }
        let warnings = (o["warnings"] as? [String]) ?? []
        guard let type = data["resultType"] as? String else { throw Failure(description: "answer without resultType") }
        guard type == "vector" else { throw Failure(description: "expected a vector, got a \(type)") }
        var out: [VectorSample] = []
        for r in data["result"] as? [[String: Any]] ?? [] {
            guard let v = r["value"] as? [Any], v.count == 2, let text = v[1] as? String, let value = Double(text) ?? special(text) else {
                throw Failure(description: "malformed sample in the answer")
            }
            out.append(VectorSample(labels: r["metric"] as? [String: String] ?? [:], value: value))
        }
        return Answer(samples: out, warnings: warnings)
    }

    static func special(_ s: String) -> Double? {
        switch s {
        case "NaN": .nan
        case "+Inf", "Inf": .infinity
        case "-Inf": -.infinity
        default: nil
        }
    }
}

/// A client for one Prometheus-compatible endpoint.
public struct PrometheusClient: Sendable {
    public var base: URL
    public var timeout: Double
    /// `Authorization` header value (`Bearer …` or `Basic …`), from the config.
    public var authorization: String?

    public init(base: URL, timeout: Double = 5, authorization: String? = nil) {
        self.base = base; self.timeout = timeout; self.authorization = authorization
    }

    /// Runs an instant query at `time`.
    public func query(_ promql: String, at time: Double, client http: HTTPClient) async throws -> PrometheusAPI.Answer {
        var components = URLComponents(url: base.appendingPathComponent("api/v1/query"), resolvingAgainstBaseURL: false)!
        components.queryItems = [URLQueryItem(name: "query", value: promql), URLQueryItem(name: "time", value: String(time))]
        // '+' in a query string reads as a space to Go's parser: encode it.
        components.percentEncodedQuery = components.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B")
        var headers: [(name: String, value: String)] = [("Accept", "application/json")]
        if let authorization { headers.append(("Authorization", authorization)) }
        let response = try await http.get(HTTPClientRequest(url: components.url!, headers: headers, timeout: timeout))
        return try PrometheusAPI.decodeVector(response.body, status: response.status)
    }
}
