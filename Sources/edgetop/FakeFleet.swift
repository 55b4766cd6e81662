import ArgumentParser
import EdgeSources
import Foundation

/// `edgetop fake-fleet`: serves N fake node endpoints (dcgm-exporter GPU gauges and a vLLM
/// latency histogram that grows) on one port, for `edgetop bench`'s scrape figures.
struct FakeFleet: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fake-fleet", abstract: "Serve fake exporter endpoints on 127.0.0.1 for benchmarks.", shouldDisplay: false)

    @Option var port: UInt16 = 19_400
    @Option var targets: Int = 1_000

    func run() throws {
        let counter = Counter()
        let server = HTTPServer(host: "127.0.0.1", port: port, maxConnections: 8_192) { request in
            let parts = request.path.split(separator: "/")
            guard parts.count == 2, parts[1] == "metrics", let n = Int(parts[0].dropFirst()), n < targets else {
                return HTTPResponse(status: 404, text: "no such target")
            }
            let tick = counter.next()
            var page = "# TYPE DCGM_FI_DEV_GPU_UTIL gauge\n"
            for g in 0..<4 { page += "DCGM_FI_DEV_GPU_UTIL{gpu=\"\(g)\",Hostname=\"n\(n)\"} \(40 + (n + g + tick) % 50)\n" }
            page += "# TYPE DCGM_FI_DEV_GPU_TEMP gauge\n"
            for g in 0..<4 { page += "DCGM_FI_DEV_GPU_TEMP{gpu=\"\(g)\",Hostname=\"n\(n)\"} \(50 + (n + g) % 30)\n" }
            page += "# TYPE vllm:e2e_request_latency_seconds histogram\n"
            var cumulative = 0
            for (i, le) in ["0.3", "0.5", "0.8", "1.0", "2.5", "5.0", "+Inf"].enumerated() {
                cumulative += (tick / 7 + i) % 5 + i
                page += "vllm:e2e_request_latency_seconds_bucket{le=\"\(le)\",model_name=\"m\"} \(cumulative)\n"
            }
            page += "vllm:e2e_request_latency_seconds_count{model_name=\"m\"} \(cumulative)\nvllm:e2e_request_latency_seconds_sum{model_name=\"m\"} \(cumulative)\n"
            return HTTPResponse(status: 200, contentType: "text/plain; version=0.0.4", body: Array(page.utf8))
        }
        try server.start()
        while true { sleep(60) }
    }

    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var value = 0
        func next() -> Int { lock.lock(); defer { lock.unlock() }; value += 1; return value }
    }
}
