import EdgeCollector
import EdgeSources
import EdgeTestSupport
import Foundation
import Testing

/// The StatsD parser against real client captures and two implementations' test tables.
@Suite("StatsD / DogStatsD parser")
struct StatsDParserTests {
    struct Record: Sendable, CustomTestStringConvertible {
        var file: String
        var bytes: [UInt8]
        var expect: String
        var note: String
        var testDescription: String { "\(file): \(String(decoding: bytes.prefix(60), as: UTF8.self))" }
    }

    static let records: [Record] = {
        let dir = Bundle.module.url(forResource: "Fixtures/statsd", withExtension: nil)!
        var out: [Record] = []
        for file in ["python-clients-captured.jsonl", "statsd_exporter-line-tests.jsonl", "telegraf-statsd-tests.jsonl"] {
            guard let text = try? String(contentsOf: dir.appendingPathComponent(file), encoding: .utf8) else { continue }
            for line in text.split(separator: "\n") {
                guard let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                      let expect = o["expect"] as? String else { continue }
                var bytes: [UInt8]
                if let s = o["input"] as? String { bytes = Array(s.utf8) }
                else if let hex = o["input_hex"] as? String {
                    bytes = stride(from: 0, to: hex.count, by: 2).compactMap {
                        UInt8(hex[hex.index(hex.startIndex, offsetBy: $0)..<hex.index(hex.startIndex, offsetBy: $0 + 2)], radix: 16)
                    }
                } else { continue }
                out.append(Record(file: file, bytes: bytes, expect: expect, note: o["note"] as? String ?? ""))
            }
        }
        return out
    }()

    /// Where statsd_exporter and telegraf (or the statsd_exporter table itself) draw the line
    /// differently from us, on purpose. Each entry says which way we go and why.
    static let deliberateDifferences: [String: String] = [
        // statsd_exporter drops multi-value timings whose names use '.'; DogStatsD 1.1 allows
        // them whatever the name, so we keep them.
        "foo.test:0.5:120:3000:10:20000:0.01|ms": "multi-value timing kept",
        // A trailing '|' loses nothing; telegraf accepts it, statsd_exporter drops the line.
        "foo:1|c|": "trailing empty component tolerated",
        // telegraf ignores an unprefixed component; we reject what we cannot read.
        "invalid.sample.rate:45|c|0.1": "unknown component rejected",
    ]

    @Test("the fixtures were found (every record that reached the wire)")
    func present() { #expect(Self.records.count >= 260) }

    @Test("good lines parse and bad lines are rejected, never a crash", arguments: records)
    func record(_ r: Record) {
        let lines = StatsDParser.parse(datagram: r.bytes)
        let text = String(decoding: r.bytes, as: UTF8.self)
        if Self.deliberateDifferences[text] != nil { return }
        switch r.expect {
        case "ok":
            #expect(!lines.isEmpty && lines.allSatisfy { if case .success = $0 { true } else { false } },
                    "\(r.note): \(lines)")
        case "error":
            #expect(lines.contains { if case .failure = $0 { true } else { false } } || lines.isEmpty, "\(r.note) was accepted")
        default:
            break  // client-error / none-sent: nothing reached the wire
        }
    }

    @Test("sample rates weigh timings; DogStatsD tags place them; multi-value packets expand")
    func semantics() throws {
        let r = StatsDParser.parse(datagram: Array("api.latency:12.5|ms|@0.1|#region:WEU,site:fra1,node:fra1-n01,model:llama\napi.latency:1:2:3|d|#node:n2\nbad line\nerrors:3|c".utf8))
        #expect(r.count == 4)
        guard case .success(.metric(let a)) = r[0], case .success(.metric(let b)) = r[1],
              case .failure = r[2], case .success(.metric(let d)) = r[3] else {
            Issue.record("unexpected \(r)")
            return
        }
        #expect(a.weight == 10 && a.values == [12.5] && a.kind == .timer)
        #expect(a.tags == ["region": "WEU", "site": "fra1", "node": "fra1-n01", "model": "llama"])
        #expect(b.values == [1, 2, 3] && b.tags["node"] == "n2")
        #expect(d.kind == .counter && d.values == [3])
    }

    @Test("a listener placed by its argument shows its node before traffic; an unplaced one adds no phantom node")
    func listenerNode() throws {
        let port = freePort()
        for (argument, nodes) in [("127.0.0.1:\(port)", 0), ("127.0.0.1:\(port),region=WEU,site=fra1,node=fra1-n01", 1)] {
            let collector = Collector()
            let receiver = StatsDReceiver(options: try StatsDOptions(argument: argument), collector: collector)
            try receiver.start()
            #expect(collector.registeredNodeCount == nodes, "\(argument)")
            receiver.stop()
        }
    }
}
