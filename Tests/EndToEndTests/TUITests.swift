import EdgeTestSupport
import Foundation
import Testing

/// Drives the real binary in a real terminal (tmux): what an operator does at 3 a.m.
@Suite("Interactive view in tmux", .serialized, .enabled(if: which("tmux") != nil))
struct TUITests {
    final class Tmux {
        let socket = "edgetop-test-\(UUID().uuidString.prefix(8))"
        let tmux = which("tmux")!
        let statusFile = NSTemporaryDirectory() + "edgetop-tui-\(UUID().uuidString).status"

        @discardableResult
        func run(_ args: [String]) -> ProcessResult { spawn(tmux, ["-L", socket] + args, timeout: 20) }

        func start(_ command: String, width: Int, height: Int) {
            run(["new-session", "-d", "-s", "t", "-x", "\(width)", "-y", "\(height)",
                 "-e", "LANG=C.UTF-8", "-e", "TERM=xterm-256color",
                 "sh -c '\(command); echo $? > \(statusFile); sleep 30'"])
        }

        func screen() -> String { run(["capture-pane", "-p", "-t", "t"]).stdout }

        func keys(_ k: String...) {
            for key in k {
                run(["send-keys", "-t", "t", key])
                // Escape sequences arrive split; let each key land before the next.
                usleep(key == "Escape" ? 250_000 : 120_000)
            }
        }

        /// Waits until the screen contains `text`; returns the screen.
        @discardableResult
        func wait(for text: String, timeout: Double = 20) -> String {
            let deadline = Date().addingTimeInterval(timeout)
            var s = ""
            while Date() < deadline {
                s = screen()
                if s.contains(text) { return s }
                usleep(100_000)
            }
            return s
        }

        func exitStatus(timeout: Double = 10) -> String? {
            let deadline = Date().addingTimeInterval(timeout)
            while Date() < deadline {
                if let s = try? String(contentsOfFile: statusFile, encoding: .utf8) { return s.trimmingCharacters(in: .whitespacesAndNewlines) }
                usleep(100_000)
            }
            return nil
        }

        deinit {
            _ = spawn(tmux, ["-L", socket, "kill-server"], timeout: 10)
            try? FileManager.default.removeItem(atPath: statusFile)
        }
    }

    @Test("launch, drill to a GPU and back, filter, sort, pause, resize, quit with status 0")
    func operatorSession() throws {
        let t = Tmux()
        t.start("\(edgetopBinary()) --seed 5 --rate 20000", width: 160, height: 45)
        var s = t.wait(for: "Regions (13)")
        #expect(s.contains("Regions (13)"), "first screen:\n\(s)")
        #expect(s.contains("NAME") && s.contains("NODES") && s.contains("HEALTH") && s.contains("GPU%")
            && s.contains("TEMP") && s.contains("RPS") && s.contains("P50") && s.contains("P99") && s.contains("AGE"))
        #expect(s.contains("samples/s"))

        t.keys("Enter")
        s = t.wait(for: " sites")
        #expect(s.contains("Fleet › "), "region level:\n\(s)")
        t.keys("Enter")
        s = t.wait(for: "nodes")
        #expect(s.contains("REASON"), "site level:\n\(s)")
        t.keys("Enter")
        s = t.wait(for: "latency distribution")
        #expect(s.contains("MEM") && s.contains("POWER"), "node level:\n\(s)")
        #expect(s.contains("gpu0"))

        t.keys("Escape", "Escape", "Escape")
        s = t.wait(for: "Regions (13)")
        #expect(s.contains("Regions (13)"), "back at the fleet:\n\(s)")

        t.keys("/", "S", "A", "S", "Enter")
        s = t.wait(for: "filter: SAS")
        #expect(s.contains("SAS South Asia"))
        #expect(!s.contains("WEU Western Europe"))
        t.keys("/", "Escape")
        s = t.wait(for: "WEU Western Europe")

        t.keys("s")
        s = t.wait(for: "sort p99")
        #expect(s.contains("sort p99"))

        t.keys("Space")
        s = t.wait(for: "PAUSED")
        // Everything but the status bar (edgetop's own CPU keeps updating) stays frozen.
        func data(_ screen: String) -> [Substring] { screen.split(separator: "\n").filter { !$0.contains("samples/s") } }
        let frozen = data(t.screen())
        usleep(2_500_000)
        #expect(data(t.screen()) == frozen, "paused data must not change")
        t.keys("Space")

        t.keys("?")
        s = t.wait(for: "edgetop keys")
        t.keys("x")
        s = t.wait(for: "sort p99")
        #expect(!s.contains("edgetop keys"))

        t.run(["resize-window", "-t", "t", "-x", "80", "-y", "24"])
        s = t.wait(for: "sort p99")
        #expect(s.split(separator: "\n").allSatisfy { $0.count <= 80 })
        t.run(["resize-window", "-t", "t", "-x", "60", "-y", "20"])
        s = t.wait(for: "terminal too small")
        #expect(s.contains("terminal too small: 60x20"))
        t.run(["resize-window", "-t", "t", "-x", "120", "-y", "40"])
        s = t.wait(for: "Regions (13)")
        #expect(s.contains("Regions (13)"))

        t.keys("q")
        #expect(t.exitStatus() == "0")
    }

    @Test("SIGTERM restores the terminal and exits")
    func sigterm() {
        let t = Tmux()
        // The shell becomes edgetop (exec), and a timer sends it SIGTERM four seconds later.
        let script = NSTemporaryDirectory() + "edgetop-sigterm-\(UUID().uuidString).sh"
        try? "(sleep 4; kill -TERM $$) &\nexec \(edgetopBinary()) --seed 5 --rate 5000\n".write(toFile: script, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: script) }
        t.start("sh \(script)", width: 100, height: 30)
        #expect(t.wait(for: "Regions (13)").contains("Regions (13)"))
        #expect(t.exitStatus(timeout: 15) == "0")
        // After endwin the alternate screen is gone: the table is no longer on the pane.
        #expect(!t.screen().contains("Regions (13)"))
    }

    @Test("a pipe is not a terminal: one line, exit 2")
    func notATerminal() {
        let r = spawn(edgetopBinary(), [])
        #expect(r.status == 2)
        #expect(r.stderr.contains("edgetop snapshot"))
        #expect(r.stderr.split(separator: "\n").count == 1)
    }
}
