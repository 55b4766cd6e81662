import EdgeCore

/// How numbers look in tables: short, unit-bearing, `-` for no data.
public enum Formatting {
    /// Milliseconds: `0.42`, `8.1`, `312`, `1.25s`, `42s`.
    public static func ms(_ v: Double) -> String {
        guard v.isFinite else { return "-" }
        if v < 1 { return fixed(v, 2) }
        if v < 10 { return fixed(v, 1) }
        if v < 1000 { return String(Int(v.rounded())) }
        if v < 10_000 { return fixed(v / 1000, 2) + "s" }
        return String(Int((v / 1000).rounded())) + "s"
    }

    /// Milliseconds with their unit: "56ms", "1.13s".
    public static func msUnit(_ v: Double) -> String { v.isFinite && v >= 1000 ? ms(v) : ms(v) + "ms" }

    /// A latency quantile, marked `≈` (or `~`) when only classic buckets bound it.
    public static func quantile(_ v: Double, bounded bucketBounded: Bool, ascii: Bool = false) -> String {
        guard bucketBounded, v.isFinite else { return ms(v) }
        return (ascii ? "~" : "≈") + ms(v)
    }

    public static func pct(_ v: Double) -> String { v.isFinite ? String(Int(v.rounded())) : "-" }

    public static func temp(_ v: Double) -> String { v.isFinite ? String(Int(v.rounded())) : "-" }

    /// Requests per second: `0.5`, `42`, `1.2k`, `310k`.
    public static func rate(_ v: Double) -> String {
        guard v.isFinite else { return "-" }
        if v < 10 { return fixed(v, 1) }
        if v < 1000 { return String(Int(v.rounded())) }
        if v < 100_000 { return fixed(v / 1000, 1) + "k" }
        if v < 1_000_000 { return String(Int((v / 1000).rounded())) + "k" }
        return fixed(v / 1_000_000, 1) + "M"
    }

    /// Data age: `0s`, `14s`, `3m`, `2h`, `-` for never.
    public static func age(_ v: Double) -> String {
        guard v.isFinite else { return "-" }
        if v < 100 { return String(Int(v.rounded(.down))) + "s" }
        if v < 6000 { return String(Int((v / 60).rounded(.down))) + "m" }
        return String(Int((v / 3600).rounded(.down))) + "h"
    }

    /// MiB as GiB: `41.2G`.
    public static func mem(_ mib: Double) -> String { mib.isFinite && mib > 0 ? fixed(mib / 1024, 1) + "G" : "-" }

    /// Whole number with thousands separators: `9,625`.
    public static func count<I: BinaryInteger>(_ n: I) -> String {
        let s = String(n)
        var out = ""
        for (i, ch) in s.reversed().enumerated() {
            if i > 0 && i % 3 == 0 && ch != "-" { out.append(",") }
            out.append(ch)
        }
        return String(out.reversed())
    }

    /// Health counts of a group: `ok`, or the bad states with counts: `2dn 5deg 1st`.
    public static func health(_ h: HealthCounts) -> String {
        var parts: [String] = []
        if h.down > 0 { parts.append("\(h.down)dn") }
        if h.degraded > 0 { parts.append("\(h.degraded)deg") }
        if h.stale > 0 { parts.append("\(h.stale)st") }
        return parts.isEmpty ? (h.total > 0 ? "ok" : "-") : parts.joined(separator: " ")
    }

    public static func fixed(_ v: Double, _ digits: Int) -> String {
        guard v.isFinite else { return "-" }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let n = Int((abs(v) * scale).rounded())
        let whole = n / Int(scale), frac = n % Int(scale)
        var f = String(frac)
        while f.count < digits { f = "0" + f }
        return (v < 0 && n != 0 ? "-" : "") + String(whole) + (digits > 0 ? "." + f : "")
    }
}
