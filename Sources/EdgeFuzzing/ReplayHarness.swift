import EdgeCollector
import EdgeCore
import EdgeSources
import Foundation

/// Replay JSON Lines: on every line the byte scanner (with its fallback) and the general JSON
/// parser give the same verdict — the same sample, or the same reason — and a refused line
/// registers no node.
enum ReplayHarness {
    nonisolated(unsafe) static var collector = Collector(config: CollectorConfig(intervalSeconds: 10, history: .off))
    nonisolated(unsafe) static var inputs = 0

    static func run(_ input: [UInt8]) -> String? {
        // A fresh collector now and then, so nodes made by earlier inputs do not pile up.
        inputs += 1
        if inputs % 500 == 0 { collector = Collector(config: CollectorConfig(intervalSeconds: 10, history: .off)) }
        var fast = ReplaySource(collector: collector)
        var general = ReplaySource(collector: collector)
        for line in input.split(separator: 0x0A) {
            let before = collector.registeredNodeCount
            let a = line.withUnsafeBytes { fast.parse($0) }
            let b = general.parseJSON(Data(line))
            switch (a, b) {
            case (.success(let x), .success(let y)):
                guard x.node == y.node, Invariant.nearlySame(x.time, y.time), x.metric == y.metric, Invariant.nearlySame(x.value, y.value),
                      x.gpu == y.gpu, x.weight == y.weight, x.source == y.source else {
                    return "scanner and JSON parser read \(String(decoding: line.prefix(80), as: UTF8.self).debugDescription) differently"
                }
                if !x.value.isFinite || !x.time.isFinite { return "accepted a non-finite sample" }
            case (.failure(let x), .failure(let y)):
                guard x.reason == y.reason else { return "reasons differ: \(x.reason) / \(y.reason)" }
                if let bad = Invariant.oneLine(x.reason, "replay") { return bad }
                if collector.registeredNodeCount != before { return "a refused line registered a node" }
            case (.success, .failure(let y)):
                return "scanner accepts what the JSON parser refuses (\(y.reason)): \(String(decoding: line.prefix(80), as: UTF8.self).debugDescription)"
            case (.failure(let x), .success):
                return "scanner refuses what the JSON parser accepts (\(x.reason)): \(String(decoding: line.prefix(80), as: UTF8.self).debugDescription)"
            }
        }
        return nil
    }
}
