import EdgeFuzzing
import Foundation
import Testing

/// Every seed and every saved crash input passes its harness: the invariants the fuzzers check
/// (docs/reliability.md) also hold on every test run, without the fuzzer runtime.
@Suite("Fuzz harnesses on their seeds and regression inputs")
struct FuzzHarnessTests {
    static func inputs(_ target: FuzzTarget, under folder: String) -> [(String, [UInt8])] {
        guard let base = Bundle.module.url(forResource: "Corpus", withExtension: nil)?
            .appendingPathComponent(folder).appendingPathComponent(target.rawValue),
            let names = try? FileManager.default.contentsOfDirectory(atPath: base.path) else { return [] }
        return names.sorted().compactMap { name in
            (try? Data(contentsOf: base.appendingPathComponent(name))).map { (name, Array($0)) }
        }
    }

    @Test("seeds hold every invariant", arguments: FuzzTarget.allCases)
    func seeds(_ target: FuzzTarget) {
        let seeds = Self.inputs(target, under: "seeds")
        #expect(!seeds.isEmpty, "no seeds for \(target.rawValue)")
        for (name, bytes) in seeds {
            #expect(target.run(bytes) == nil, "\(target.rawValue)/\(name)")
        }
    }

    @Test("inputs the fuzzers once broke stay fixed", arguments: FuzzTarget.allCases)
    func regressions(_ target: FuzzTarget) {
        for (name, bytes) in Self.inputs(target, under: "regressions") {
            #expect(target.run(bytes) == nil, "\(target.rawValue)/\(name)")
        }
    }
}
