import EdgeCollector
import EdgeCore
import Foundation

/// One thing that moved between the mark and now, for the "what changed" list.
public struct ChangeItem: Sendable, Equatable {
    public enum Kind: String, Sendable { case state = "STATE", gpu = "GPU", p99 = "P99", errors = "ERRORS" }
    public var kind: Kind
    /// Where Enter goes.
    public var target: HistoryEntity
    /// What, where and how much, in a line ("fra1-n02  HEALTHY → DOWN  up=0").
    public var text: String
    public var tone: Tone
}

/// What moved between two snapshots: nodes that changed state (worst first), GPUs that started
/// throttling or logged an Xid, and the largest p99 and error-rate moves of regions and sites.
public enum Changes {
    /// Fewest a p99 must move to be listed (both relative and absolute, so noise stays out).
    static let p99Relative = 0.10, p99AbsoluteMs = 5.0
    static let errorPoints = 1.0
    static let topMoves = 8

    /// Texts use `→` and `°`; the screen swaps them for ASCII where it must.
    public static func between(mark: FleetSnapshot, now: FleetSnapshot) -> [ChangeItem] {
        let arrow = "→"
        var items: [ChangeItem] = []
        let before = Dictionary(mark.nodes.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        var stateItems: [(HealthState, String, ChangeItem)] = []
        var gpuItems: [ChangeItem] = []
        for n in now.nodes {
            guard let old = before[n.id] else {
                stateItems.append((n.health, n.id, ChangeItem(kind: .state, target: .node(n.id),
                                                              text: "\(n.id)  new \(arrow) \(n.health.label)\(reason(n))", tone: Tone.of(n.health))))
                continue
            }
            if old.health != n.health {
                stateItems.append((n.health, n.id, ChangeItem(kind: .state, target: .node(n.id),
                                                              text: "\(n.id)  \(old.health.label) \(arrow) \(n.health.label)\(reason(n))",
                                                              tone: n.health == .healthy ? .healthy : Tone.of(n.health))))
            }
            let oldGPUs = Dictionary(old.gpus.map { ($0.index, $0) }, uniquingKeysWith: { a, _ in a })
            for g in n.gpus {
                let o = oldGPUs[g.index]
                if g.throttled && o?.throttled != true {
                    let temp = g.tempC.isFinite ? " at \(Int(g.tempC))°C" : ""
                    gpuItems.append(ChangeItem(kind: .gpu, target: .node(n.id), text: "\(n.id) GPU\(g.index) started throttling\(temp)", tone: .degraded))
                }
                if g.xid != 0 && g.xid != o?.xid {
                    gpuItems.append(ChangeItem(kind: .gpu, target: .node(n.id),
                                               text: "\(n.id) GPU\(g.index) Xid \(g.xid) \(Xid.describe(g.xid))",
                                               tone: Xid.isFatal(g.xid) ? .down : .degraded))
                }
            }
        }
        let vanished = Set(before.keys).subtracting(now.nodes.map(\.id))
        for id in vanished.sorted() {
            stateItems.append((.stale, id, ChangeItem(kind: .state, target: .node(id), text: "\(id)  \(before[id]!.health.label) \(arrow) gone", tone: .stale)))
        }
        // Worst new state first (DOWN before DEGRADED before STALE, recoveries last).
        stateItems.sort { a, b in a.0 != b.0 ? a.0 > b.0 : a.1 < b.1 }
        items += stateItems.map(\.2)
        items += gpuItems

        // Largest moves among regions and sites.
        let groups = now.regions.map { ($0, HistoryEntity.region($0.id), "region") } + now.sites.map { ($0, HistoryEntity.site($0.id), "site") }
        let oldGroups = Dictionary((mark.regions + mark.sites).map { ("\($0.kind)/\($0.id)", $0) }, uniquingKeysWith: { a, _ in a })
        var p99: [(Double, ChangeItem)] = [], errors: [(Double, ChangeItem)] = []
        for (g, target, word) in groups {
            guard let o = oldGroups["\(g.kind)/\(g.id)"] else { continue }
            if g.latency.p99.isFinite && o.latency.p99.isFinite {
                let d = g.latency.p99 - o.latency.p99
                if abs(d) >= p99AbsoluteMs && abs(d) >= p99Relative * o.latency.p99 {
                    let sign = d > 0 ? "+" : "-"
                    p99.append((abs(d), ChangeItem(kind: .p99, target: target,
                                                   text: "\(word) \(g.id) p99 \(Formatting.msUnit(o.latency.p99)) \(arrow) \(Formatting.msUnit(g.latency.p99)) (\(sign)\(Formatting.msUnit(abs(d))))",
                                                   tone: d > 0 ? Tone.latency(g.latency.p99) : .healthy)))
                }
            }
            let de = (g.errorRatio - o.errorRatio) * 100
            if abs(de) >= errorPoints {
                errors.append((abs(de), ChangeItem(kind: .errors, target: target,
                                                   text: "\(word) \(g.id) errors \(Formatting.fixed(o.errorRatio * 100, 1))% \(arrow) \(Formatting.fixed(g.errorRatio * 100, 1))%",
                                                   tone: de > 0 ? .degraded : .healthy)))
            }
        }
        items += p99.sorted { $0.0 > $1.0 }.prefix(topMoves).map(\.1)
        items += errors.sorted { $0.0 > $1.0 }.prefix(topMoves).map(\.1)
        return items
    }

    static func reason(_ n: NodeStatus) -> String { n.reason.isEmpty ? "" : "  \(n.reason)" }

    /// `snapshot` as a mark: what `between` reads of it (every group; each node's id, state,
    /// reason and GPUs), without the per-node distributions, counters and per-class and
    /// per-source detail it never compares.
    public static func kept(_ snapshot: FleetSnapshot) -> FleetSnapshot {
        var s = snapshot
        for i in s.nodes.indices {
            s.nodes[i].distribution = []
            s.nodes[i].tierCounts = []
            s.nodes[i].latencySources = []
            s.nodes[i].classes = []
        }
        return s
    }
}

/// The last change list, keyed by the two snapshots it compares.
final class ChangesCache: @unchecked Sendable {
    private let lock = NSLock()
    private var key: (UInt64, Double, UInt64, Double)?
    private var items: [ChangeItem] = []

    func items(mark: FleetSnapshot, now: FleetSnapshot) -> [ChangeItem] {
        let k = (mark.id, mark.time, now.id, now.time)
        lock.lock()
        if let key, key == k { defer { lock.unlock() }; return items }
        lock.unlock()
        let built = Changes.between(mark: mark, now: now)
        lock.lock(); key = k; items = built; lock.unlock()
        return built
    }
}
