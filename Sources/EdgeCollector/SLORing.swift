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

/// Per-minute good/total counts of one series: 60 minutes, then 72 five-minute blocks (6 h),
/// 1 KB a series, allocated at its first closed minute. Filled at record time (two adds) and
/// closed lazily when the series next records in a later minute, so nothing walks the fleet.
struct SLORing {
    static let minuteSlots = 60, blockSlots = 72, blockMinutes = 5
    static let byteCount = (minuteSlots + blockSlots) * 8
    /// The absolute minute (`floor(time / 60)`) being counted, and its counts so far.
    var openMinute = Int.min
    var openGood: UInt64 = 0
    var openTotal: UInt64 = 0
    /// [good, total] pairs: minutes by `minute mod 60`, then blocks by `block mod 72`.
    private var slots: [UInt32] = []

    /// Closes the open minute and opens `m` (no-op unless `m` is later).
    mutating func roll(to m: Int) {
        guard m > openMinute else { return }
        if openMinute == Int.min || (openTotal == 0 && slots.isEmpty) {
            openMinute = m
            return
        }
        if slots.isEmpty { slots = [UInt32](repeating: 0, count: 2 * (Self.minuteSlots + Self.blockSlots)) }
        let old = openMinute
        setMinute(old, good: openGood, total: openTotal)
        addBlock(Self.block(old), good: openGood, total: openTotal)
        // Minutes and blocks skipped over held nothing: clear what the rings kept there.
        var x = old + 1
        while x < m && x <= old + Self.minuteSlots { setMinute(x, good: 0, total: 0); x += 1 }
        var b = Self.block(old) + 1
        while b <= Self.block(m) && b <= Self.block(old) + Self.blockSlots { clearBlock(b); b += 1 }
        openMinute = m
        openGood = 0
        openTotal = 0
    }

    static func block(_ m: Int) -> Int { Int((Double(m) / Double(blockMinutes)).rounded(.down)) }

    private mutating func setMinute(_ m: Int, good: UInt64, total: UInt64) {
        let i = 2 * Self.mod(m, Self.minuteSlots)
        slots[i] = UInt32(clamping: good)
        slots[i + 1] = UInt32(clamping: total)
    }

    private mutating func addBlock(_ b: Int, good: UInt64, total: UInt64) {
        let i = 2 * (Self.minuteSlots + Self.mod(b, Self.blockSlots))
        slots[i] = UInt32(clamping: UInt64(slots[i]) &+ good)
        slots[i + 1] = UInt32(clamping: UInt64(slots[i + 1]) &+ total)
    }

    private mutating func clearBlock(_ b: Int) {
        let i = 2 * (Self.minuteSlots + Self.mod(b, Self.blockSlots))
        slots[i] = 0
        slots[i + 1] = 0
    }

    static func mod(_ x: Int, _ n: Int) -> Int { ((x % n) + n) % n }

    /// Adds the windows ending with minute `now` to `w`.
    func windows(at now: Int, into w: inout SLOWindows) {
        guard openMinute != Int.min else { return }
        let open = SLOCounts(good: openGood, total: openTotal)
        for (i, length) in SLOWindows.minutes.enumerated() where i < 3 {
            if openMinute <= now && openMinute > now - length { w[i].add(open) }
        }
        if openMinute <= now && Self.block(openMinute) >= Self.block(now) - (Self.blockSlots - 1) { w[3].add(open) }
        guard !slots.isEmpty else { return }
        // Closed minutes held: [openMinute - 59, openMinute - 1].
        let newest = min(now, openMinute - 1)
        var x = newest
        var sum = SLOCounts()
        let oldestHeld = openMinute - (Self.minuteSlots - 1)
        var next = 0  // the next window (5, 30, 60 min) to hand the running sum to
        while next < 3 {
            let start = now - SLOWindows.minutes[next] + 1
            while x >= max(start, oldestHeld) {
                let i = 2 * Self.mod(x, Self.minuteSlots)
                sum.good &+= UInt64(slots[i]); sum.total &+= UInt64(slots[i + 1])
                x -= 1
            }
            w[next].add(sum)
            next += 1
        }
        // 6 h: the blocks held, [block(openMinute) - 71, block(openMinute)], within the window.
        let ob = Self.block(openMinute)
        let lo = max(Self.block(now) - (Self.blockSlots - 1), ob - (Self.blockSlots - 1))
        let hi = min(Self.block(now), ob)
        if hi >= lo {
            var blocks = SLOCounts()
            for b in lo...hi {
                let i = 2 * (Self.minuteSlots + Self.mod(b, Self.blockSlots))
                blocks.good &+= UInt64(slots[i]); blocks.total &+= UInt64(slots[i + 1])
            }
            w[3].add(blocks)
        }
    }
}
