import EdgeCore
import EdgeSources
import Foundation
import Testing

@Suite("OTLP/HTTP JSON")
struct OTLPTests {
    static let dir = Bundle.module.url(forResource: "Fixtures/otlp-json", withExtension: nil)!
    static let files: [String] = (try? FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".json") && $0 != "index.json" }.sorted()) ?? []

    func body(_ name: String) throws -> [UInt8] { try [UInt8](Data(contentsOf: Self.dir.appendingPathComponent(name))) }

    func decoder() -> OTLPDecoder { OTLPDecoder(defaultPlacement: .init(region: "WEU", site: "fra1", node: "fallback")) }

    @Test("every captured export decodes without a rejected point", arguments: files)
    func decodes(_ file: String) throws {
        var d = decoder()
        let out = try d.decode(try body(file))
        #expect(out.rejected == 0, "\(file): \(out.firstError ?? "")")
    }

    @Test("explicit latency histograms: cumulative exports become deltas, bucket-bounded, placed by host.name")
    func explicitCumulative() throws {
        var d = decoder()
        let first = try d.decode(try body("python-sdk_cumulative_explicit_histogram_export1.json"))
        let latency = first.samples.filter { $0.1.metric == .latencyBucketMs }
        #expect(latency.reduce(0) { $0 + Int($1.1.weight) } == 11)
        #expect(Set(latency.map(\.0.node)) == ["edge-01"])
        let second = try d.decode(try body("python-sdk_cumulative_explicit_histogram_export2.json"))
        let more = second.samples.filter { $0.1.metric == .latencyBucketMs }.reduce(0) { $0 + Int($1.1.weight) }
        #expect(more >= 0)
        // GPU utilisation arrives as a ratio (unit "1") and is shown in percent.
        let util = first.samples.filter { $0.1.metric == .gpuUtil }.map(\.1)
        #expect(util.contains { $0.gpu == 0 && abs($0.value - 87) < 1e-9 })
    }

    @Test("delta exports are taken as they are")
    func delta() throws {
        var d = decoder()
        var total = 0
        for n in 1...3 {
            let out = try d.decode(try body("python-sdk_delta_explicit_histogram_export\(n).json"))
            total += out.samples.filter { $0.1.metric == .latencyBucketMs }.reduce(0) { $0 + Int($1.1.weight) }
        }
        #expect(total > 0)
    }

    @Test("malformed bodies are errors; empty requests are fine", arguments: ["", "[]", "nope", "{\"resourceMetrics\": 3}"])
    func malformed(_ text: String) {
        var d = decoder()
        #expect(throws: OTLPDecoder.Malformed.self) { try d.decode(Array(text.utf8)) }
    }

    @Test("classes: a point's edgetop.class, else the resource's, else gen_ai.operation.name through the aliases")
    func classes() throws {
        func point(_ attrs: String) -> String {
            #"{"attributes":[\#(attrs)],"bucketCounts":["0","2"],"explicitBounds":[0.1],"timeUnixNano":"1"}"#
        }
        func kv(_ k: String, _ v: String) -> String { #"{"key":"\#(k)","value":{"stringValue":"\#(v)"}}"# }
        let body = #"{"resourceMetrics":[{"resource":{"attributes":[\#(kv("host.name", "n1")),\#(kv("edgetop.class", "video_inspection"))]},"scopeMetrics":[{"metrics":[{"name":"gen_ai.server.request.duration","unit":"s","histogram":{"aggregationTemporality":1,"dataPoints":[\#(point(kv("edgetop.class", "batch"))),\#(point("")),\#(point(kv("gen_ai.operation.name", "chat")))]}}]}]},{"resource":{"attributes":[\#(kv("host.name", "n2"))]},"scopeMetrics":[{"metrics":[{"name":"gen_ai.server.request.duration","unit":"s","histogram":{"aggregationTemporality":1,"dataPoints":[\#(point(kv("gen_ai.operation.name", "chat"))),\#(point(kv("gen_ai.operation.name", "embeddings")))]}}]}]}]}"#
        var classes = ClassCatalog.standard
        classes.aliases["chat"] = .customerService
        var d = OTLPDecoder(defaultPlacement: .init(region: "WEU", site: "fra1", node: "fallback"), classes: classes)
        let out = try d.decode(Array(body.utf8))
        #expect(out.rejected == 0, "\(out.firstError ?? "")")
        let got = out.samples.map { "\($0.0.node):\(WorkloadClass(rawValue: $0.1.gpu)!.id)" }
        #expect(got == ["n1:batch", "n1:video_inspection", "n1:video_inspection", "n2:customer_service", "n2:unclassified"])
    }

    @Test("an empty export is accepted")
    func empty() throws {
        var d = decoder()
        #expect(try d.decode(Array("{}".utf8)).samples.isEmpty)
    }
}
