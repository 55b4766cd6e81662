import EdgeSources
import Foundation
import Testing

/// A scrape is judged as Prometheus judges it: a page that does not parse is a failed scrape,
/// with the line and reason, never a partly-read page; text 0.0.4 as leniently as Prometheus.
@Suite("Scrape pages: broken pages fail the scrape, valid ones pass")
struct ScrapePageTests {
    static let fixtures = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!
    static func capture(_ path: String) throws -> [UInt8] {
        try [UInt8](Data(contentsOf: fixtures.appendingPathComponent(path)))
    }
    static let dcgm = "prometheus-text/dcgm-exporter/dcgm-exporter-2.x_a100_mig_nvidia-docs.prom"
    static let text = "text/plain; version=0.0.4; charset=utf-8"

    func failure(_ body: [UInt8], _ contentType: String? = text) -> String? {
        do { _ = try Scraper.parse(body, contentType: contentType); return nil } catch { return error.reason }
    }

    /// Prometheus' own parser test page: a summary with negative quantile values, which
    /// Prometheus 2.42 scraped but OpenMetrics forbids. OpenMetrics is read strictly, so this
    /// one deliberately fails.
    static let nonConformant = "openmetrics-samples/prometheus-repo_alltypes.5mfs.om.txt"

    @Test("every real exporter capture passes as the content type it was served with")
    func capturesPass() throws {
        let index = try JSONSerialization.jsonObject(with: Data(contentsOf: Self.fixtures.appendingPathComponent("prometheus-text/index.json"))) as? [String: Any]
        let files = try #require(index?["files"] as? [[String: Any]])
        #expect(files.count == 23)
        for f in files {
            let file = try #require(f["file"] as? String)
            let om = (f["reference"] as? [String: Any])?["served_as"] as? String == "openmetrics-1.0"
            let body = try Self.capture("prometheus-text/" + file)
            let reason = failure(body, om ? "application/openmetrics-text; version=1.0.0; charset=utf-8" : Self.text)
            if file == Self.nonConformant {
                #expect(reason?.contains("quantile values must not be negative") == true, "\(reason ?? "accepted")")
            } else {
                #expect(reason == nil, "\(file): \(reason ?? "")")
            }
        }
    }

    @Test("pages Prometheus 2.42 accepts: duplicate HELP, TYPE again after samples, no final newline")
    func lenientText() throws {
        let page = """
        # HELP DCGM_FI_DEV_GPU_UTIL GPU utilization (in %).
        # HELP DCGM_FI_DEV_GPU_UTIL GPU utilization (in %).
        # TYPE DCGM_FI_DEV_GPU_UTIL gauge
        DCGM_FI_DEV_GPU_UTIL{gpu="0",Hostname="n1"} 87
        # HELP DCGM_FI_DEV_GPU_UTIL GPU utilization (in %).
        # TYPE DCGM_FI_DEV_GPU_UTIL gauge
        DCGM_FI_DEV_GPU_UTIL{gpu="1",Hostname="n1"} 55
        """
        let e = try Scraper.parse(Array(page.utf8), contentType: Self.text)
        #expect(e.families.flatMap(\.samples).map(\.value) == [87, 55], "both GPUs are kept")
    }

    struct Broken: Sendable, CustomTestStringConvertible {
        var name: String
        var make: @Sendable ([UInt8]) throws -> [UInt8]
        var reason: String
        var testDescription: String { name }
    }

    /// Each broken page is made from the real dcgm-exporter capture, as it breaks in the field.
    static let broken: [Broken] = [
        Broken(name: "truncated inside a label set", make: { b in
            let open = b.firstIndex(of: UInt8(ascii: "{"))!
            let quote = b[open...].firstIndex(of: UInt8(ascii: "\""))!
            return Array(b[...(quote + 1)])
        }, reason: "line 1: unterminated label value"),
        Broken(name: "invalid UTF-8 in a label value", make: { b in
            var b = b
            let i = b.firstIndex(of: UInt8(ascii: "\""))! + 1
            b[i] = 0xC3; b[i + 1] = 0x28
            return b
        }, reason: "not valid UTF-8"),
        Broken(name: "NUL bytes padding the page", make: { b in b + [UInt8](repeating: 0, count: 64) }, reason: "invalid metric name"),
        Broken(name: "gzip body without Content-Encoding", make: { _ in try capture("broken-pages/vllm_v0_opt-125m_datadog.prom.gz") },
               reason: "gzip body without Content-Encoding"),
        Broken(name: "an HTML 404 page answered with 200", make: { _ in
            Array("<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1></body></html>\n".utf8)
        }, reason: "an HTML page"),
        Broken(name: "a metric name starting with a digit", make: { b in Array("9DCGM_FI_DEV_GPU_UTIL{gpu=\"0\"} 1\n".utf8) + b },
               reason: "line 1: invalid metric name"),
        Broken(name: "duplicate label names", make: { b in b + Array("DCGM_FI_DEV_GPU_UTIL{gpu=\"0\",gpu=\"1\"} 5\n".utf8) },
               reason: "duplicate label name"),
        Broken(name: "a value that is not a number", make: { b in b + Array("DCGM_FI_DEV_GPU_TEMP{gpu=\"0\"} hot\n".utf8) },
               reason: "invalid or missing value"),
    ]

    @Test("a broken page fails the scrape with its line and reason", arguments: broken)
    func brokenPage(_ c: Broken) throws {
        let body = try c.make(try Self.capture(Self.dcgm))
        let reason = try #require(failure(body), "\(c.name) was accepted")
        #expect(reason.hasPrefix("scrape failed: "), "\(reason)")
        #expect(reason.contains(c.reason), "\(reason)")
    }

    @Test("OpenMetrics is read strictly: a page without # EOF fails")
    func strictOpenMetrics() throws {
        let om = try Self.capture("prometheus-text/prometheus_client/prometheus_client_basic.om.txt")
        let cut = Array(String(decoding: om, as: UTF8.self).replacingOccurrences(of: "# EOF\n", with: "").utf8)
        let reason = failure(cut, "application/openmetrics-text; version=1.0.0")
        #expect(reason?.contains("missing # EOF") == true, "\(reason ?? "accepted")")
    }
}
