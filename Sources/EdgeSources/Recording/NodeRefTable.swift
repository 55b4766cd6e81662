import EdgeCore
import Foundation

/// Node refs by the raw bytes of region and node id, so a replay line for a known node costs a
/// hash and a compare — no `String` is made for it. Keys live in one byte arena; a slot holds
/// an entry index, chained on the rare hash collision.
struct NodeRefTable {
    private struct Entry {
        var offset: Int
        var regionCount: Int
        var nodeCount: Int
        var ref: NodeRef
        var next: Int  // -1 ends the chain
    }
    private var heads: [UInt64: Int] = [:]
    private var entries: [Entry] = []
    private var arena: [UInt8] = []

    var count: Int { entries.count }

    @inline(__always)
    private static func hash(_ region: UnsafeRawBufferPointer, _ node: UnsafeRawBufferPointer) -> UInt64 {
        StableHash.fnv1a(node, from: StableHash.fnv1a(region) ^ 0x1F)
    }

    func find(region: UnsafeRawBufferPointer, node: UnsafeRawBufferPointer) -> NodeRef? {
        var i = heads[Self.hash(region, node)] ?? -1
        while i >= 0 {
            let e = entries[i]
            if e.regionCount == region.count && e.nodeCount == node.count {
                let same = arena.withUnsafeBytes { a in
                    memcmp(a.baseAddress! + e.offset, region.baseAddress!, region.count) == 0
                        && memcmp(a.baseAddress! + e.offset + region.count, node.baseAddress!, node.count) == 0
                }
                if same { return e.ref }
            }
            i = e.next
        }
        return nil
    }

    func find(region: String, node: String) -> NodeRef? {
        var r = region, n = node
        return r.withUTF8 { rb in n.withUTF8 { nb in find(region: UnsafeRawBufferPointer(rb), node: UnsafeRawBufferPointer(nb)) } }
    }

    mutating func insert(region: String, node: String, ref: NodeRef) {
        guard find(region: region, node: node) == nil else { return }
        let offset = arena.count
        arena.append(contentsOf: region.utf8)
        arena.append(contentsOf: node.utf8)
        let h = arena.withUnsafeBytes { a in
            Self.hash(UnsafeRawBufferPointer(rebasing: a[offset..<(offset + region.utf8.count)]),
                      UnsafeRawBufferPointer(rebasing: a[(offset + region.utf8.count)...]))
        }
        entries.append(Entry(offset: offset, regionCount: region.utf8.count, nodeCount: node.utf8.count, ref: ref, next: heads[h] ?? -1))
        heads[h] = entries.count - 1
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
