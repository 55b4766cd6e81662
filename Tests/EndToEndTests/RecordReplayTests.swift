import EdgeTestSupport
import Foundation
import Testing

/// `--record` then `--replay`: the incident file gives back the fleet as it was.
@Suite("Record and replay (real binary)", .serialized)
struct RecordReplayTests {
    let bin = edgetopBinary()
    let start = 1_764_230_400.0

    func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "\(text.prefix(200))")
    }

    func tempPath(_ name: String) -> String { NSTemporaryDirectory() + "edgetop-\(UUID().uuidString)-\(name)" }

    @Test("a simulator recording replayed at speed 0 gives the same snapshot at every level, history included")
    func recordReplayEquality() throws {
        let file = tempPath("rec.jsonl")
        defer { try? FileManager.default.removeItem(atPath: file) }
        let live = spawn(bin, ["snapshot", "--sim-regions", "OC,WNAM", "--seed", "4", "--start", String(start), "--duration", "65",
                               "--rate", "3000", "--record", file, "--format", "json", "--view", "nodes", "--history", "15m"])
        #expect(live.status == 0, "\(live.stderr)")
        // Half-way through, and at the end: the fleet at any time inside the recording.
        for (at, want) in [(start + 40, nil as [String: Any]?), (start + 65, try json(live.stdout))] {
            let view = want == nil ? "sites" : "nodes"
            let replay = spawn(bin, ["snapshot", "--replay", file, "--at", String(at), "--format", "json", "--view", view, "--history", "15m"])
            #expect(replay.status == 0, "\(replay.stderr)")
            let got = try json(replay.stdout)
            let wanted: [String: Any]
            if let want { wanted = want } else {
                // The live run, stopped at the same fleet time.
                let mid = spawn(bin, ["snapshot", "--sim-regions", "OC,WNAM", "--seed", "4", "--start", String(start), "--duration", "40",
                                      "--rate", "3000", "--format", "json", "--view", "sites", "--history", "15m"])
                wanted = try json(mid.stdout)
            }
            for level in ["fleet", "regions", "sites", "nodes", "ingest"] where want != nil || level != "nodes" {
                let a = try JSONSerialization.data(withJSONObject: try #require(got[level]), options: [.sortedKeys])
                let b = try JSONSerialization.data(withJSONObject: try #require(wanted[level]), options: [.sortedKeys])
                #expect(a == b, "\(level) at t+\(Int(at - start)) differs between the live run and its replay")
            }
            guard want != nil else { continue }
            let nodes = try #require(got["nodes"] as? [[String: Any]])
            #expect(nodes.count == 113 + 197)
            #expect(nodes.allSatisfy { $0["latency_source"] as? String != "replay" }, "the recorded source names survive")
        }
    }

    @Test("--record-max-mb rotates; each file replays on its own; a bad recording line is named and skipped")
    func rotation() throws {
        let file = tempPath("rot.jsonl")
        defer { for p in [file, file + ".1"] { try? FileManager.default.removeItem(atPath: p) } }
        let r = spawn(bin, ["snapshot", "--sim-regions", "OC", "--start", String(start), "--duration", "30", "--rate", "5000",
                            "--record", file, "--record-max-mb", "4"])
        #expect(r.status == 0, "\(r.stderr)")
        let size = { (p: String) in (try? FileManager.default.attributesOfItem(atPath: p)[.size] as? Int) ?? 0 }
        #expect(size(file + ".1") > 3_000_000 && size(file + ".1") <= 5 * 1_048_576, "the older part kept, about the limit")
        #expect(size(file) > 0 && size(file) <= 5 * 1_048_576)
        for p in [file, file + ".1"] {
            let head = try #require(try String(contentsOfFile: p, encoding: .utf8).split(separator: "\n").first)
            #expect(head.hasPrefix("{\"schema\":\"edgetop.recording/v1\""))
            let replay = spawn(bin, ["snapshot", "--replay", p, "--format", "json"])
            #expect(replay.status == 0, "\(replay.stderr)")
            let fleet = try #require(try json(replay.stdout)["fleet"] as? [String: Any])
            #expect(fleet["nodes"] as? Int == 113, "every node declared in each file")
        }
        // A hostile or broken line in the middle: named, counted, the rest kept.
        var text = try String(contentsOfFile: file, encoding: .utf8)
        text += "{\"source\":{\"id\":\"x\"}}\n{\"t\":\(start + 29),\"region\":\"OC\",\"site\":\"syd1\",\"node\":\"syd1-n01\",\"metric\":\"latency_ms\",\"value\":5,\"src\":9}\n"
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        let bad = spawn(bin, ["snapshot", "--replay", file, "--format", "json"])
        #expect(bad.status == 0)
        #expect(bad.stderr.contains("malformed source declaration") && bad.stderr.contains("src 9.0 was not declared"), "\(bad.stderr)")
    }

    @Test("a recording killed mid-run has lost at most its last second or two")
    func crashLosesLittle() throws {
        let file = tempPath("crash.jsonl")
        defer { try? FileManager.default.removeItem(atPath: file) }
        let serve = try #require(BackgroundProcess(bin, ["serve", "--sim-regions", "OC", "--rate", "2000", "--listen", "127.0.0.1:\(freePort())",
                                                         "--record", file]))
        usleep(4_000_000)
        let killedAt = Date().timeIntervalSince1970
        kill(serve.pid, SIGKILL)
        _ = serve.wait(timeout: 5)
        let lines = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n")
        let times = lines.compactMap { line -> Double? in
            guard line.hasPrefix("{\"t\":"), let end = line.firstIndex(of: ",") else { return nil }
            return Double(line[line.index(line.startIndex, offsetBy: 5)..<end])
        }
        let newest = try #require(times.max())
        #expect(killedAt - newest < 2.5, "newest recorded sample \(killedAt - newest) s before the kill")
    }
}
