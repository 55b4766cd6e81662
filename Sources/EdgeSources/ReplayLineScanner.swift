import EdgeCore
import Foundation

/// The fields of one replay line, read straight from its bytes.
struct ReplayFields {
    var t: Double?
    var value: Double?
    var gpu: Double?
    /// Recording extras: the sample's weight and its source (an id the header declared).
    var weight: Double?
    var src: Double?
    var region: UnsafeRawBufferPointer?
    var site: UnsafeRawBufferPointer?
    var node: UnsafeRawBufferPointer?
    var metric: UnsafeRawBufferPointer?
    /// The workload class id of a latency or error line (`"class"`).
    var workload: UnsafeRawBufferPointer?
}

/// Reads the replay schema's flat objects (`{"t": 1.5, "node": "fra1-n03", …}`) byte by byte,
/// the way the exposition scanner reads metrics pages: no JSON tree, no boxed numbers, no
/// strings unless a node is new. It accepts only what it can read exactly — a flat object of
/// escape-free strings and plain JSON numbers; anything else (escapes, `true`, nesting, odd
/// numbers, broken syntax) returns nil and the line goes to the general JSON parser, so every
/// line is judged by the same rules and reported with the same reasons.
enum ReplayLineScanner {
    static func scan(_ b: UnsafeRawBufferPointer) -> ReplayFields? {
        var f = ReplayFields()
        var c = Cursor(b: b)
        c.skipSpace()
        guard c.i < c.n, b[c.i] == 0x7B else { return nil }
        c.i += 1
        c.skipSpace()
        if c.i < c.n && b[c.i] == 0x7D { c.i += 1 } else {
            while true {
                c.skipSpace()
                guard let key = c.string() else { return nil }
                c.skipSpace()
                guard c.i < c.n, b[c.i] == 0x3A else { return nil }
                c.i += 1
                c.skipSpace()
                guard c.i < c.n else { return nil }
                if b[c.i] == 0x22 {
                    guard let s = c.string() else { return nil }
                    switch key.count {
                    case 4 where equal(key, "node"): f.node = s
                    case 4 where equal(key, "site"): f.site = s
                    case 6 where equal(key, "region"): f.region = s
                    case 6 where equal(key, "metric"): f.metric = s
                    case 5 where equal(key, "class"): f.workload = s
                    case 1 where key[0] == 0x74, 5 where equal(key, "value"), 3 where equal(key, "gpu") || equal(key, "src"),
                         6 where equal(key, "weight"):
                        return nil  // a string where a number belongs: the general parser says why
                    default: break  // other keys are not read here
                    }
                } else if b[c.i] == 0x2D || (b[c.i] >= 0x30 && b[c.i] <= 0x39) {
                    guard let v = c.number() else { return nil }
                    switch key.count {
                    case 1 where key[0] == 0x74: f.t = v
                    case 5 where equal(key, "value"): f.value = v
                    case 3 where equal(key, "gpu"): f.gpu = v
                    case 3 where equal(key, "src"): f.src = v
                    case 6 where equal(key, "weight"): f.weight = v
                    case 4 where equal(key, "node") || equal(key, "site"), 6 where equal(key, "region") || equal(key, "metric"),
                         5 where equal(key, "class"):
                        return nil
                    default: break
                    }
                } else {
                    return nil  // true, false, null, arrays, objects
                }
                c.skipSpace()
                guard c.i < c.n else { return nil }
                if b[c.i] == 0x2C { c.i += 1; continue }
                if b[c.i] == 0x7D { c.i += 1; break }
                return nil
            }
        }
        c.skipSpace()
        return c.i == c.n ? f : nil
    }

    /// A position in one line. A struct with mutating methods rather than local functions
    /// capturing the index: those cost a dynamic exclusivity check per call.
    struct Cursor {
        let b: UnsafeRawBufferPointer
        let n: Int
        var i = 0
        init(b: UnsafeRawBufferPointer) { self.b = b; n = b.count }

        @inline(__always)
        mutating func skipSpace() { while i < n && (b[i] == 0x20 || b[i] == 0x09 || b[i] == 0x0D) { i += 1 } }

        /// A string without escapes or control characters; its bytes.
        @inline(__always)
        mutating func string() -> UnsafeRawBufferPointer? {
            guard i < n, b[i] == 0x22 else { return nil }
            let start = i + 1
            var j = start
            while j < n {
                let c = b[j]
                if c == 0x22 { break }
                // Escapes, control characters and non-ASCII text: the general parser, which
                // also judges the whole line's UTF-8.
                if c == 0x5C || c < 0x20 || c >= 0x80 { return nil }
                j += 1
            }
            guard j < n else { return nil }
            i = j + 1
            return UnsafeRawBufferPointer(rebasing: b[start..<j])
        }

        /// A JSON number (`-?digits[.digits][e[+-]digits]`).
        mutating func number() -> Double? {
            let start = i
            let negative = i < n && b[i] == 0x2D
            if negative { i += 1 }
            let intStart = i
            // The digits as an integer while they fit, for the exact fast path below.
            var mantissa: UInt64 = 0, digits = 0
            while i < n && b[i] >= 0x30 && b[i] <= 0x39 {
                if digits < 19 { mantissa = mantissa &* 10 &+ UInt64(b[i] &- 0x30) }
                digits += 1; i += 1
            }
            guard i > intStart, !(b[intStart] == 0x30 && i - intStart > 1) else { return nil }
            var fraction = 0
            if i < n && b[i] == 0x2E {
                i += 1
                let fracStart = i
                while i < n && b[i] >= 0x30 && b[i] <= 0x39 {
                    if digits < 19 { mantissa = mantissa &* 10 &+ UInt64(b[i] &- 0x30) }
                    digits += 1; fraction += 1; i += 1
                }
                guard i > fracStart else { return nil }
            }
            var exponentPart = false
            if i < n && (b[i] == 0x65 || b[i] == 0x45) {
                exponentPart = true
                i += 1
                if i < n && (b[i] == 0x2B || b[i] == 0x2D) { i += 1 }
                let expStart = i
                while i < n && b[i] >= 0x30 && b[i] <= 0x39 { i += 1 }
                guard i > expStart else { return nil }
            }
            // Clinger's fast path: a mantissa below 2^53 and a power of ten up to 10^22 are
            // both exact doubles, so one IEEE division (or product) is correctly rounded —
            // the same double strtod gives. Timestamps and values in recordings nearly always
            // qualify; anything longer goes to strtod.
            if !exponentPart && digits <= 19 && mantissa <= 1 << 53 && fraction <= 22 {
                let v = fraction == 0 ? Double(mantissa) : Double(mantissa) / ReplayLineScanner.powerOfTen(fraction)
                return negative ? -v : v
            }
            // Short numbers (nearly all) parse from a stack copy: no allocation.
            let len = i - start
            guard len < 40 else { return nil }
            let b = b
            let v = withUnsafeTemporaryAllocation(of: CChar.self, capacity: len + 1) { tmp in
                for k in 0..<len { tmp[k] = CChar(bitPattern: b[start + k]) }
                tmp[len] = 0
                return strtod(tmp.baseAddress!, nil)
            }
            return v.isFinite ? v : nil  // 1e999: as the general parser judges it
        }
    }

    /// 10^e for 0 ≤ e ≤ 22, exactly (each product of tens below 2^53·10 is exact).
    @inline(__always)
    static func powerOfTen(_ e: Int) -> Double {
        switch e {
        case 0: 1e0; case 1: 1e1; case 2: 1e2; case 3: 1e3; case 4: 1e4; case 5: 1e5; case 6: 1e6; case 7: 1e7
        case 8: 1e8; case 9: 1e9; case 10: 1e10; case 11: 1e11; case 12: 1e12; case 13: 1e13; case 14: 1e14
        case 15: 1e15; case 16: 1e16; case 17: 1e17; case 18: 1e18; case 19: 1e19; case 20: 1e20; case 21: 1e21
        default: 1e22
        }
    }


    @inline(__always)
    static func equal(_ bytes: UnsafeRawBufferPointer, _ s: StaticString) -> Bool {
        guard bytes.count == s.utf8CodeUnitCount else { return false }
        let p = s.utf8Start
        for k in 0..<bytes.count where bytes[k] != p[k] { return false }
        return true
    }
}
