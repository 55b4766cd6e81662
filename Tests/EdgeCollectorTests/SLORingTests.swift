@testable import EdgeCollector
import EdgeTestSupport
import Testing

@Suite("SLO minute ring")
struct SLORingTests {
    /// Every minute's counts, kept whole: what the burn-rate windows must add up to.
    struct Model {
        var minutes: [Int: SLOCounts] = [:]
        func windows(at now: Int) -> [SLOCounts] {
            var out = [SLOCounts](repeating: SLOCounts(), count: 4)
            for (x, c) in minutes where x <= now {
                for (i, length) in SLOWindows.minutes.enumerated() where i < 3 && x > now - length { out[i].add(c) }
                // 6 h: whole 5-minute blocks, the current one and the 71 before it.
                if SLORing.block(x) >= SLORing.block(now) - 71 { out[3].add(c) }
            }
            return out
        }
    }

    @Test("7 days of minutes with gaps of every length: the 5m/30m/1h/6h counts equal every minute's, added up")
    func matchesEveryMinute() {
        var rng = SeededGenerator(seed: 7)
        var ring = SLORing()
        var model = Model()
        var minute = 29_403_840  // a block boundary, as time / 60 is
        var checked = 0
        for _ in 0..<3_000 {
            // Traffic in the open minute (sometimes none), then a roll: mostly the next minute,
            // sometimes a gap inside the hour, past the hour, or past the 6 h.
            let total = rng.next() % 4 == 0 ? 0 : rng.next() % 50
            let good = total == 0 ? 0 : rng.next() % (total + 1)
            ring.roll(to: minute)
            ring.openGood &+= good; ring.openTotal &+= total
            model.minutes[minute, default: SLOCounts()].add(SLOCounts(good: good, total: total))
            model.minutes = model.minutes.filter { $0.key > minute - 400 }  // older ones count in no window asked below
            for later in [0, 1, 4, 59, 61, 300, 359, 400] {
                var w = SLOWindows()
                ring.windows(at: minute + later, into: &w)
                let expected = model.windows(at: minute + later)
                for i in 0..<4 where w[i] != expected[i] {
                    Issue.record("minute \(minute) + \(later), \(SLOWindows.names[i]): \(w[i]) against \(expected[i])")
                    return
                }
                checked += 1
            }
            // Asked far before the open minute (a source's clock ahead of the snapshot's): the
            // ring holds nothing that old, and answers zeros rather than trapping.
            var early = SLOWindows()
            ring.windows(at: minute - 500, into: &early)
            if (0..<4).contains(where: { early[$0] != SLOCounts() }) {
                Issue.record("minute \(minute) - 500: \((0..<4).map { early[$0] })")
                return
            }
            switch rng.next() % 100 {
            case 0..<80: minute += 1
            case 80..<92: minute += 2 + Int(rng.next() % 50)
            case 92..<97: minute += 55 + Int(rng.next() % 20)
            default: minute += 60 + Int(rng.next() % 400)
            }
        }
        #expect(checked == 24_000)
    }

    @Test("a series younger than an hour holds no blocks; one that records for longer does")
    func blocksOnlyAfterAnHour() {
        var ring = SLORing()
        for m in 0..<60 { ring.roll(to: m); ring.openTotal += 1 }
        #expect(ring.byteCount == 60 * 2 * 4, "the hour's minutes only")
        ring.roll(to: 61)
        #expect(ring.byteCount == (60 + 72) * 2 * 4, "minute 0 left the hour for its block")
        var w = SLOWindows()
        ring.windows(at: 61, into: &w)
        #expect(w[3].total == 60 && w[2].total == 58, "6 h: minutes 0-59; 1 h: minutes 2-61")
    }
}
