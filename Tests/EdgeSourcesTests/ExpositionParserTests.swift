import EdgeSources
import EdgeTestSupport
import Foundation
import Testing

/// The exposition parser against real captures and the OpenMetrics conformance cases.
@Suite("Prometheus text / OpenMetrics parser")
struct ExpositionParserTests {
    static let fixtures = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var file: String
        var shouldParse: Bool
        var testDescription: String { name }
    }

    static let conformance: [Case] = {
        let url = fixtures.appendingPathComponent("openmetrics-parser-tests/index.json")
        guard let data = try? Data(contentsOf: url),
              let o = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let cases = o["cases"] as? [[String: Any]] else { return [] }
        return cases.compactMap { c in
            guard let name = c["name"] as? String, let file = c["file"] as? String else { return nil }
            return Case(name: name, file: file, shouldParse: c["expect"] as? String != "error")
        }
    }()

    struct Capture: Sendable, CustomTestStringConvertible {
        var file: String
        var format: ExpositionFormat
        var samples: Int?
        var testDescription: String { file }
    }

    static let captures: [Capture] = {
        let url = fixtures.appendingPathComponent("prometheus-text/index.json")
        guard let data = try? Data(contentsOf: url),
              let o = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let files = o["files"] as? [[String: Any]] else { return [] }
        return files.compactMap { f in
            guard let file = f["file"] as? String, f["expect"] as? String == "ok" else { return nil }
            let ref = (f["reference"] as? [String: Any])?["prometheus_client_0_26_parser"] as? [String: Any]
            let samples = ref?["ok"] as? Bool == true ? ref?["samples"] as? Int : nil
            return Capture(file: file, format: (f["format"] as? String)?.hasPrefix("openmetrics") == true ? .openMetrics : .prometheusText,
                           samples: samples)
        }
    }()

    @Test("the fixture indexes were found")
    func fixturesPresent() {
        #expect(Self.conformance.count == 211)
        #expect(Self.captures.count == 23)
    }

    @Test("OpenMetrics conformance: good cases parse, bad cases are rejected", arguments: conformance)
    func conformanceCase(_ c: Case) throws {
        let bytes = try [UInt8](Data(contentsOf: Self.fixtures.appendingPathComponent("openmetrics-parser-tests/\(c.file)")))
        let result = ExpositionParser(format: .openMetrics, strict: true).parse(bytes)
        if c.shouldParse {
            #expect(result.errors.isEmpty, "\(c.name): \(result.errors.first.map { "\($0)" } ?? "")")
        } else {
            #expect(!result.errors.isEmpty, "\(c.name) was accepted")
        }
    }

    @Test("real exporter output parses completely, with the sample counts prometheus_client finds", arguments: captures)
    func capture(_ c: Capture) throws {
        let bytes = try [UInt8](Data(contentsOf: Self.fixtures.appendingPathComponent("prometheus-text/\(c.file)")))
        let result = ExpositionParser(format: c.format).parse(bytes)
        #expect(result.errors.isEmpty, "\(c.file): \(result.errors.prefix(3).map { "\($0)" })")
        if let expected = c.samples { #expect(result.sampleCount == expected, "\(c.file)") }
    }

    @Test("a bad line is reported and skipped; the good lines around it are kept")
    func tolerant() {
        let text = """
        # TYPE DCGM_FI_DEV_GPU_UTIL gauge
        DCGM_FI_DEV_GPU_UTIL{gpu="0",Hostname="fra1-n01"} 87
        DCGM_FI_DEV_GPU_UTIL{gpu="1",Hostname="fra1-n01" 55
        DCGM_FI_DEV_GPU_UTIL{gpu="2",Hostname="fra1-n01"} 0x10
        DCGM_FI_DEV_GPU_UTIL{gpu="3",Hostname="fra1-n01\\u{1B}[2J"} 42 1700000000000
        """
        let r = ExpositionParser(format: .prometheusText).parse(text)
        #expect(r.errors.map(\.line) == [3, 4])
        let samples = r.families.flatMap(\.samples)
        #expect(samples.map(\.value) == [87, 42])
        #expect(samples[1].timestamp == 1_700_000_000)
        #expect(samples[1].label("Hostname") == "fra1-n01\\u{1B}[2J")
    }

    @Test("values: NaN, infinities, exponents, big counters; label escapes")
    func values() {
        let text = """
        a{x="q\\\\\\"\\n"} NaN
        b +Inf
        c -Inf
        d 1e+06
        e 18446744073709551615
        f -0.5e-3
        """
        let r = ExpositionParser(format: .prometheusText).parse(text)
        #expect(r.errors.isEmpty)
        let v = r.families.flatMap(\.samples).map(\.value)
        #expect(v[0].isNaN && v[1] == .infinity && v[2] == -.infinity && v[3] == 1_000_000)
        #expect(v[4] == Double(UInt64.max) && v[5] == -0.0005, "2^64 - 1 reads as the nearest double, 2^64")
        #expect(r.families[0].samples[0].label("x") == "q\\\"\n")
    }

    @Test("truncated, oversized and non-UTF-8 input never crashes")
    func hostile() {
        var rng = SeededGenerator(seed: 9)
        let base = Array("# TYPE x histogram\nx_bucket{le=\"0.1\"} 1\nx_bucket{le=\"+Inf\"} 2\nx_sum 0.3\nx_count 2\n# EOF\n".utf8)
        for cut in 0..<base.count {
            _ = ExpositionParser(format: .openMetrics, strict: true).parse(Array(base[..<cut]))
        }
        for _ in 0..<500 {
            var b = base
            for _ in 0..<4 { b[Int.random(in: 0..<b.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng) }
            _ = ExpositionParser(format: .openMetrics, strict: true).parse(b)
            _ = ExpositionParser(format: .prometheusText).parse(b)
        }
        let long = "a{l=\"" + String(repeating: "x", count: 1_000_000) + "\"} 1\n"
        #expect(ExpositionParser(format: .prometheusText).parse(long).sampleCount == 1)
    }
}
