/// FNV-1a over bytes: the same value on every platform and run (Swift's `Hasher` is seeded per
/// process), for choices that must not move, such as a target's scrape offset or the class a
/// simulated node is deployed for.
enum StableHash {
    static let offsetBasis: UInt64 = 0xcbf2_9ce4_8422_2325
    static let prime: UInt64 = 0x100_0000_01b3

    static func fnv1a(_ bytes: some Sequence<UInt8>, from h: UInt64 = offsetBasis) -> UInt64 {
        var h = h
        for b in bytes { h = (h ^ UInt64(b)) &* prime }
        return h
    }
}
