import EdgeCore

/// Good and total requests over an SLO window.
public struct SLOCounts: Sendable, Equatable {
    public var good: UInt64 = 0
    public var total: UInt64 = 0
    public init(good: UInt64 = 0, total: UInt64 = 0) { self.good = good; self.total = total }
    public mutating func add(_ o: SLOCounts) { good &+= o.good; total &+= o.total }
    /// Fraction of good requests; NaN with none.
    public var goodFraction: Double { total > 0 ? Double(good) / Double(total) : .nan }
    /// Error-budget burn rate against `target`: (1 − good fraction) / (1 − target). 1 spends
    /// the budget exactly over the SLO period; 14.4 spends 2 % of a 30-day budget in an hour.
    public func burnRate(target: Double) -> Double {
        guard total > 0, target < 1 else { return .nan }
        return (1 - goodFraction) / (1 - target)
    }
}

/// The burn-rate windows of the SRE workbook's multi-window alerts: 5 m, 30 m, 1 h, 6 h. Each
/// is whole minutes plus the minute in progress (6 h: whole 5-minute blocks), over the data
/// there is: a collector up for 10 minutes reports its 1 h window over those 10 minutes.
public struct SLOWindows: Sendable, Equatable {
    public static let names = ["5m", "30m", "1h", "6h"]
    public static let minutes = [5, 30, 60, 360]
    /// The four windows' counts, held inline: a snapshot carries one set per class per node,
    /// and an array each was an allocation each (44k of them a snapshot at 44k nodes).
    private var m5 = SLOCounts(), m30 = SLOCounts(), h1 = SLOCounts(), h6 = SLOCounts()
    public init() {}
    /// Window `i` of `names`.
    public subscript(_ i: Int) -> SLOCounts {
        get {
            switch i {
            case 0: m5
            case 1: m30
            case 2: h1
            case 3: h6
            default: preconditionFailure("SLO window \(i) of 4")
            }
        }
        set {
            switch i {
            case 0: m5 = newValue
            case 1: m30 = newValue
            case 2: h1 = newValue
            case 3: h6 = newValue
            default: preconditionFailure("SLO window \(i) of 4")
            }
        }
    }
    public mutating func add(_ o: SLOWindows) { m5.add(o.m5); m30.add(o.m30); h1.add(o.h1); h6.add(o.h6) }
    /// The index of window `name` ("5m", "30m", "1h", "6h").
    public static func index(of name: String) -> Int? { names.firstIndex(of: name) }
}

/// Per-minute good/total counts of one series: the last hour's minutes (480 bytes, made at its
/// first closed minute), and 72 five-minute blocks (576 bytes) that the minutes fold into as
/// they leave the hour — made when the first one does, so a series younger than an hour (and
/// a replay shorter than one) holds none. Filled at record time (two adds) and closed lazily
/// when the series next records in a later minute, so nothing walks the fleet.
struct SLORing {
    static let minuteSlots = 60, blockSlots = 72, blockMinutes = 5
    /// The absolute minute (`floor(time / 60)`) being counted, and its counts so far.
    var openMinute = Int.min
    var openGood: UInt64 = 0
    var openTotal: UInt64 = 0
    /// [good, total] pairs by `minute mod 60`: the closed minutes `openMinute - 60 ..< openMinute`
    /// (the slot of `openMinute` holds the minute an hour before it until it closes).
    private var minutes: [UInt32] = []
    /// [good, total] pairs by `block mod 72`: the minutes that have left `minutes`, by block.
    private var blocks: [UInt32] = []

    /// Bytes held.
    var byteCount: Int { (minutes.count + blocks.count) * MemoryLayout<UInt32>.stride }

    /// Closes the open minute and opens `m` (no-op unless `m` is later).
    mutating func roll(to m: Int) {
        guard m > openMinute else { return }
        if openMinute == Int.min || (openTotal == 0 && minutes.isEmpty) {
            openMinute = m
            return
        }
        if minutes.isEmpty { minutes = [UInt32](repeating: 0, count: 2 * Self.minuteSlots) }
        let old = openMinute
        // Blocks the ring moves on to are reused for newer ones: cleared first. The minutes
        // that leave below all belong to earlier blocks.
        if !blocks.isEmpty {
            var b = Self.block(old) + 1
            while b <= Self.block(m) && b <= Self.block(old) + Self.blockSlots { setBlock(b, good: 0, total: 0); b += 1 }
        }
        setMinute(old, good: openGood, total: openTotal, newest: m)
        // Minutes skipped over held nothing (at most an hour of them: every slot once).
        var x = old + 1
        while x < m && x <= old + Self.minuteSlots { setMinute(x, good: 0, total: 0, newest: m); x += 1 }
        openMinute = m
        openGood = 0
        openTotal = 0
    }

    static func block(_ m: Int) -> Int { Int((Double(m) / Double(blockMinutes)).rounded(.down)) }

    /// Writes minute `x`; the minute its slot held (`x - 60`) leaves the hour for its block, unless
    /// that block is already older than the 6 h ending with minute `newest`.
    private mutating func setMinute(_ x: Int, good: UInt64, total: UInt64, newest: Int) {
        let i = 2 * Self.mod(x, Self.minuteSlots)
        let leavingGood = minutes[i], leavingTotal = minutes[i + 1]
        if leavingGood != 0 || leavingTotal != 0 {
            let b = Self.block(x - Self.minuteSlots)
            if b > Self.block(newest) - Self.blockSlots {
                if blocks.isEmpty { blocks = [UInt32](repeating: 0, count: 2 * Self.blockSlots) }
                let j = 2 * Self.mod(b, Self.blockSlots)
                setBlock(b, good: UInt64(blocks[j]) &+ UInt64(leavingGood), total: UInt64(blocks[j + 1]) &+ UInt64(leavingTotal))
            }
        }
        minutes[i] = UInt32(clamping: good)
        minutes[i + 1] = UInt32(clamping: total)
    }

    private mutating func setBlock(_ b: Int, good: UInt64, total: UInt64) {
        let j = 2 * Self.mod(b, Self.blockSlots)
        blocks[j] = UInt32(clamping: good)
        blocks[j + 1] = UInt32(clamping: total)
    }

    static func mod(_ x: Int, _ n: Int) -> Int { ((x % n) + n) % n }

    /// Adds the windows ending with minute `now` to `w`.
    func windows(at now: Int, into w: inout SLOWindows) {
        guard openMinute != Int.min else { return }
        let open = SLOCounts(good: openGood, total: openTotal)
        for (i, length) in SLOWindows.minutes.enumerated() where i < 3 {
            if openMinute <= now && openMinute > now - length { w[i].add(open) }
        }
        // 6 h: the whole 5-minute blocks [block(now) - 71, block(now)], up to the open minute's.
        let lo = Self.block(now) - (Self.blockSlots - 1)
        let hi = min(Self.block(now), Self.block(openMinute))
        if openMinute <= now && Self.block(openMinute) >= lo { w[3].add(open) }
        guard !minutes.isEmpty else { return }
        // Closed minutes held: [openMinute - 60, openMinute - 1]; the 1 h window reads 59 of them.
        let newest = min(now, openMinute - 1)
        var x = newest
        var sum = SLOCounts()
        let oldestHeld = openMinute - (Self.minuteSlots - 1)
        var next = 0  // the next window (5, 30, 60 min) to hand the running sum to
        while next < 3 {
            let start = now - SLOWindows.minutes[next] + 1
            while x >= max(start, oldestHeld) {
                let i = 2 * Self.mod(x, Self.minuteSlots)
                sum.good &+= UInt64(minutes[i]); sum.total &+= UInt64(minutes[i + 1])
                x -= 1
            }
            w[next].add(sum)
            next += 1
        }
        guard hi >= lo else { return }
        var six = SLOCounts()
        for x in (openMinute - Self.minuteSlots)..<openMinute where Self.block(x) >= lo && Self.block(x) <= hi {
            let i = 2 * Self.mod(x, Self.minuteSlots)
            six.good &+= UInt64(minutes[i]); six.total &+= UInt64(minutes[i + 1])
        }
        // Blocks still in the ring: [block(openMinute) - 71, block(openMinute)] (none of them
        // when `now` lies more than 6 h before the open minute: a source's clock ahead).
        let oldestBlock = max(lo, Self.block(openMinute) - (Self.blockSlots - 1))
        if !blocks.isEmpty && oldestBlock <= hi {
            for b in oldestBlock...hi {
                let j = 2 * Self.mod(b, Self.blockSlots)
                six.good &+= UInt64(blocks[j]); six.total &+= UInt64(blocks[j + 1])
            }
        }
        w[3].add(six)
    }
}
