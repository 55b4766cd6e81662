import EdgeCollector
import EdgeCore
@testable import EdgeSources
import Foundation
import Testing

/// The byte scanner of replay lines must judge every line exactly as the general JSON parser
/// does: the same sample, or the same reason.
@Suite("Replay line scanner")
struct ReplayScannerTests {
    static let lines: [String] = {
        let url = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("replay-mixed.jsonl")
        let file = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
        return file.split(separator: "\n").map(String.init) + [
            #"{"t":1764230400,"region":"weu","site":"fra1","node":"fra1-n02","metric":"latency_ms","value":1e2}"#,
            #"{ "t" : 1764230400.5 , "region" : "weu" , "site" : "fra1" , "node" : "fra1-n02" , "metric" : "up" , "value" : 0 }"#,
            #"{"t":1764230400,"region":"weu","site":"fra1","node":"fra1-n02","metric":"latency_ms","value":-0.5}"#,
            #"{"t":1764230400,"region":"weu","site":"fra1","node":"fra1-n02","metric":"latency_ms","value":true}"#,
            #"{"t":1764230400,"region":"weu","site":"fra1","node":"fra1-n02","metric":"latency_ms","value":012}"#,
            #"{"t":1764230400,"region":"weu","site":"fra1","node":"fra1-n02","metric":"latency_ms","value":1.}"#,
            #"{"t":1764230400,"region":"w\u0065u","site":"fra1","node":"fra1-n02","metric":"latency_ms","value":3}"#,
            #"{"t":1764230400,"region":"weu","site":"fra1","node":"fra1-n02","metric":"gpu_util","gpu":2.5,"value":3}"#,
            #"{"t":1764230400,"region":"weu","site":"fra1","node":"fra1-n02","metric":"gpu_util","gpu":"1","value":3}"#,
            #"{"t":1764230400,"region":"weu","site":"","node":"fra1-n02","metric":"latency_ms","value":3}"#,
            #"{"t":1764230400,"region":"weu","site":"fra1","node":"fra1-n02","metric":"latency_ms","value":3,"class":"batch"}"#,
            #"{"t":1764230400,"region":"weu","site":"fra1","node":"fra1-n02","metric":"latency_ms","value":3,}"#,
            #"{"t":1764230400,"region":"weu","site":"fra1","node":"fra1-n02","metric":"latency_ms","value":3} trailing"#,
            #"{"t":1764230400,"region":"weu","site":"fra1","node":"fra1-n02","metric":"latency_ms"}"#,
            #"{"t":-5,"region":"weu","site":"fra1","node":"fra1-n02","metric":"latency_ms","value":3}"#,
            #"{"t":1764230400,"region":"weu","site":"fra1","node":"fra1-n02","metric":7,"value":3}"#,
            #"{"t":1764230400,"region":"weu","site":"fra1","node":"fra1-n02","metric":"latency_ms","value":1e999}"#,
            #"[1, 2, 3]"#, #"{}"#, #"{"#, "",
        ]
    }()

    func describe(_ r: Result<Sample, ReplaySource.Reason>) -> String {
        switch r {
        case .success(let s): "\(s.node.region)/\(s.node.slot) \(s.time) \(s.metric.name) \(s.value) gpu\(s.gpu)"
        case .failure(let e): "error: \(e.reason)"
        }
    }

    @Test("scanner and JSON parser agree on every line, good or bad")
    func agree() {
        var fast = ReplaySource(collector: Collector())
        var general = ReplaySource(collector: Collector())
        var scanned = 0
        for line in Self.lines {
            let bytes = Data(line.utf8)
            let a = describe(fast.parse(bytes)), b = describe(general.parseJSON(bytes))
            #expect(a == b, "\(line)")
            if bytes.withUnsafeBytes({ ReplayLineScanner.scan($0) }) != nil { scanned += 1 }
        }
        #expect(scanned > Self.lines.count / 2, "the common lines take the fast path")
    }

    @Test("the scanner hands over what it cannot read exactly")
    func handsOver() {
        for line in [#"{"node":"a\"b"}"#, #"{"t":true}"#, #"{"x":{"y":1}}"#, #"{"t":+1}"#, #"{"t":0x10}"#, #"{"t":NaN}"#] {
            #expect(Data(line.utf8).withUnsafeBytes { ReplayLineScanner.scan($0) } == nil, "\(line)")
        }
    }

    @Test("numbers read on the fast path are the doubles strtod gives, to the last bit")
    func numbersExact() {
        var rng = SystemRandomNumberGenerator()
        var texts = ["0", "-0", "0.1", "0.3", "1764230400.125", "1764230403010.4025", "9007199254740993", "9007199254740992",
                     "123456789012345678", "0.0000000000000000000001", "0.00000000000000000000001", "4503599627370497.5",
                     "1e2", "2.5E-3", "17976931348623157", "-12.000001"]
        for _ in 0..<20_000 {
            let whole = UInt64.random(in: 0...2_000_000_000_000, using: &rng)
            let places = Int.random(in: 0...9, using: &rng)
            var t = String(whole)
            if places > 0 { t += "." + String((0..<places).map { _ in Character(String(Int.random(in: 0...9, using: &rng))) }) }
            texts.append(Bool.random(using: &rng) ? "-" + t : t)
        }
        for text in texts {
            let line = #"{"t":1764230400,"region":"r","site":"s","node":"n","metric":"latency_ms","value":\#(text)}"#
            let scanned = Array(line.utf8).withUnsafeBytes { ReplayLineScanner.scan($0)?.value }
            let exact = strtod(text, nil)
            #expect(scanned?.bitPattern == exact.bitPattern, "\(text): \(String(describing: scanned)) vs strtod \(exact)")
        }
    }

    @Test("the node table finds every node it was given and none it was not, through its growth, in any order")
    func nodeTable() {
        var table = NodeRefTable()
        for i in 0..<20_000 {
            table.insert(region: "r\(i % 13)", node: "site\(i / 10)-n\(i % 10)", ref: NodeRef(region: Int32(i % 13), slot: Int32(i)))
        }
        table.insert(region: "r0", node: "site0-n0", ref: NodeRef(region: 5, slot: 5))  // already there: kept as it was
        #expect(table.count == 20_000)
        for i in stride(from: 0, to: 20_000, by: 7) {
            #expect(table.find(region: "r\(i % 13)", node: "site\(i / 10)-n\(i % 10)") == NodeRef(region: Int32(i % 13), slot: Int32(i)))
        }
        // In registration order, each node twice (the order a recording repeats; the table
        // tries the last node and the next one before probing).
        for i in 0..<20_000 {
            for _ in 0..<2 where table.find(region: "r\(i % 13)", node: "site\(i / 10)-n\(i % 10)") != NodeRef(region: Int32(i % 13), slot: Int32(i)) {
                Issue.record("node \(i) not found in order")
                return
            }
        }
        #expect(table.find(region: "r0", node: "site0-n1") == nil, "the next entry's node, in the wrong region")
        #expect(table.find(region: "r1", node: "site0-n0") == nil, "same node id, another region")
        #expect(table.find(region: "r0", node: "site0-n") == nil)
        #expect(table.find(region: "", node: "") == nil)
        // The same bytes split differently between region and node are different keys; keys
        // of names up to the schema's 256 bytes are found as well.
        table.insert(region: "r1", node: "2x", ref: NodeRef(region: 1, slot: 1))
        table.insert(region: "r12", node: "x", ref: NodeRef(region: 2, slot: 2))
        let long = String(repeating: "k", count: 250)
        table.insert(region: "r0", node: long, ref: NodeRef(region: 3, slot: 3))
        table.insert(region: long, node: long + "z", ref: NodeRef(region: 4, slot: 4))
        #expect(table.find(region: "r1", node: "2x") == NodeRef(region: 1, slot: 1))
        #expect(table.find(region: "r12", node: "x") == NodeRef(region: 2, slot: 2))
        #expect(table.find(region: "r0", node: long) == NodeRef(region: 3, slot: 3))
        #expect(table.find(region: long, node: long + "z") == NodeRef(region: 4, slot: 4))
        #expect(table.find(region: long, node: long + "y") == nil)
        #expect(table.find(region: "r0", node: String(long.dropLast())) == nil)
        #expect(table.count == 20_004)
    }
}
