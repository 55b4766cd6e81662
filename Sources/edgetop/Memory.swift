import CEdgeLinux
import Foundation

/// The process's memory: RSS figures from /proc (the allocator's settings are `Heap`'s).
enum Memory {
    static func residentBytes() -> Int { statusField("VmRSS:") }
    static func peakBytes() -> Int { statusField("VmHWM:") }
    /// Bytes the allocator has handed out and not had back (RSS less this is free memory the
    /// heap keeps, and code and stacks).
    static func heapInUseBytes() -> Int { Int(edgetop_heap_in_use()) }

    private static func statusField(_ name: String) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for l in status.split(separator: "\n") where l.hasPrefix(name) {
            return (l.split(separator: " ").compactMap { Int($0) }.first ?? 0) * 1024
        }
        return 0
    }
}
