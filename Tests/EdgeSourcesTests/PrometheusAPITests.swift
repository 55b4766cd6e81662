import EdgeSources
import Foundation
import Testing

/// Prometheus HTTP API answers, as Prometheus 2.42 really sent them (and the docs' examples).
@Suite("Prometheus HTTP API decoding")
struct PrometheusAPITests {
    static let dir = Bundle.module.url(forResource: "Fixtures/prometheus-api", withExtension: nil)!

    struct Case: Sendable, CustomTestStringConvertible {
        var file: String
        var resultType: String?
        var envelope: String?
        var testDescription: String { file }
    }

    static let cases: [Case] = {
        guard let data = try? Data(contentsOf: dir.appendingPathComponent("index.json")),
              let o = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let files = o["files"] as? [[String: Any]] else { return [] }
        return files.compactMap { f in
            guard let file = f["file"] as? String else { return nil }
            return Case(file: file, resultType: f["resultType"] as? String, envelope: f["envelope_status"] as? String)
        }
    }()

    @Test("the captures were found")
    func present() { #expect(Self.cases.count >= 55) }

    @Test("vectors decode; every other answer is one clear error, never a crash", arguments: cases)
    func decode(_ c: Case) throws {
        let body = try [UInt8](Data(contentsOf: Self.dir.appendingPathComponent(c.file)))
        do {
            let answer = try PrometheusAPI.decodeVector(body)
            #expect(c.resultType == "vector", "\(c.file) decoded as a vector")
            #expect(answer.samples.allSatisfy { !$0.labels.isEmpty || $0.value.isFinite || $0.value.isNaN })
        } catch let e as PrometheusAPI.Failure {
            #expect(c.resultType != "vector" || c.envelope != "success", "\(c.file): \(e)")
            #expect(!e.description.contains("\n"))
            if c.envelope == "error" {
                let o = try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any]
                #expect(e.description.hasPrefix((o?["errorType"] as? String ?? "") + ":"), "\(e)")
            }
        }
    }

    @Test("string values, special floats and warnings")
    func details() throws {
        let body = #"{"status":"success","warnings":["partial: store-2 down"],"data":{"resultType":"vector","result":[{"metric":{"node":"a"},"value":[1.5,"NaN"]},{"metric":{},"value":[1.5,"+Inf"]},{"metric":{"gpu":"0"},"value":[1.5,"0.97"]}]}}"#
        let a = try PrometheusAPI.decodeVector(Array(body.utf8))
        #expect(a.warnings == ["partial: store-2 down"])
        #expect(a.samples[0].value.isNaN && a.samples[1].value == .infinity && a.samples[2].value == 0.97)
        #expect(throws: PrometheusAPI.Failure.self) { try PrometheusAPI.decodeVector(Array("404 page not found\n".utf8), status: 404) }
    }
}
