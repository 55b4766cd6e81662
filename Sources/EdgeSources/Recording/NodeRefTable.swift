import EdgeCore
import Foundation

/// Node refs by the raw bytes of region and node id, so a replay line for a known node costs a
/// hash and a compare — no `String` is made for it. Keys live in one byte arena; the table is
/// open-addressed on the keys' own FNV-1a hash (a `Dictionary` would hash that hash again with
/// SipHash: a tenth of the dense replay's parse time).
struct NodeRefTable {
    private struct Entry {
        var hash: UInt64
        var offset: Int
        var regionCount: Int
        var nodeCount: Int
        var ref: NodeRef
    }
    /// Entry index + 1 per slot (0: empty); a power of two, at most half full.
    private var slots = [Int32](repeating: 0, count: 64)
    private var entries: [Entry] = []
    private var arena: [UInt8] = []

    var count: Int { entries.count }

    @inline(__always)
    private static func hash(_ region: UnsafeRawBufferPointer, _ node: UnsafeRawBufferPointer) -> UInt64 {
        var h = StableHash.fnv1a(node, from: StableHash.fnv1a(region) ^ 0x1F)
        h ^= h >> 29  // FNV's low bits mix poorly; the slot is taken from them
        return h
    }

    /// The entry found last. Replay files list their nodes in an order that repeats — a
    /// recording writes each tick's samples node by node as the sources emitted them — so a
    /// line's node is most often the last line's or the one registered after it. Checking
    /// those two first reads the entries in order (the prefetcher has them) instead of a slot
    /// and an entry at random: at 44k nodes those were two cache misses a line, the reader's
    /// largest cost. Any other order pays two compares more than the plain probe.
    private var last = -1

    mutating func find(region: UnsafeRawBufferPointer, node: UnsafeRawBufferPointer) -> NodeRef? {
        let h = Self.hash(region, node)
        let found: Int? = entries.withUnsafeBufferPointer { entries in
            arena.withUnsafeBytes { a in
                func matches(_ k: Int) -> Bool {
                    let e = entries[k]
                    return e.hash == h && e.regionCount == region.count && e.nodeCount == node.count
                        && (region.isEmpty || memcmp(a.baseAddress! + e.offset, region.baseAddress!, region.count) == 0)
                        && (node.isEmpty || memcmp(a.baseAddress! + e.offset + region.count, node.baseAddress!, node.count) == 0)
                }
                if last >= 0 && matches(last) { return last }
                if last + 1 < entries.count && matches(last + 1) { return last + 1 }
                return slots.withUnsafeBufferPointer { slots in
                    let mask = slots.count - 1
                    var i = Int(truncatingIfNeeded: h) & mask
                    while true {
                        let k = Int(slots[i])
                        if k == 0 { return nil }
                        if matches(k - 1) { return k - 1 }
                        i = (i + 1) & mask
                    }
                }
            }
        }
        guard let found else { return nil }
        last = found
        return entries[found].ref
    }

    mutating func find(region: String, node: String) -> NodeRef? {
        var r = region, n = node
        return r.withUTF8 { rb in n.withUTF8 { nb in find(region: UnsafeRawBufferPointer(rb), node: UnsafeRawBufferPointer(nb)) } }
    }

    mutating func insert(region: String, node: String, ref: NodeRef) {
        guard find(region: region, node: node) == nil else { return }
        insertNew(region: region, node: node, ref: ref)
    }

    /// Inserts a key the caller has just failed to find.
    mutating func insertNew(region: String, node: String, ref: NodeRef) {
        let offset = arena.count
        arena.append(contentsOf: region.utf8)
        arena.append(contentsOf: node.utf8)
        let h = arena.withUnsafeBytes { a in
            Self.hash(UnsafeRawBufferPointer(rebasing: a[offset..<(offset + region.utf8.count)]),
                      UnsafeRawBufferPointer(rebasing: a[(offset + region.utf8.count)...]))
        }
        entries.append(Entry(hash: h, offset: offset, regionCount: region.utf8.count, nodeCount: node.utf8.count, ref: ref))
        last = entries.count - 1
        if entries.count * 2 > slots.count {
            slots = [Int32](repeating: 0, count: slots.count * 2)
            for k in entries.indices { place(k) }
        } else {
            place(entries.count - 1)
        }
    }

    private mutating func place(_ k: Int) {
        let mask = slots.count - 1
        var i = Int(truncatingIfNeeded: entries[k].hash) & mask
        while slots[i] != 0 { i = (i + 1) & mask }
        slots[i] = Int32(k + 1)
    }
}

extension Metric {
    /// The metric a replay line names, from its bytes (nil for an unknown name).
    static func named(_ bytes: UnsafeRawBufferPointer) -> Metric? {
        for (m, name) in namesAsBytes where name.count == bytes.count {
            if name.withUnsafeBytes({ memcmp($0.baseAddress!, bytes.baseAddress!, bytes.count) }) == 0 { return m }
        }
        return nil
    }

    private static let namesAsBytes: [(Metric, [UInt8])] = Metric.allCases.map { ($0, Array($0.name.utf8)) }
}
