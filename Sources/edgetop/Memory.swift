import Foundation

#if os(Linux)
// glibc's <malloc.h> is not part of the Glibc module.
@_silgen_name("mallopt") private func glibcMallopt(_ param: Int32, _ value: Int32) -> Int32
@_silgen_name("malloc_trim") private func glibcMallocTrim(_ pad: Int) -> Int32
private let M_ARENA_MAX: Int32 = -8
#endif

/// The process's memory: allocator settings and RSS figures from /proc.
enum Memory {
    /// Caps glibc's malloc arenas. By default every thread that allocates gets an arena of its
    /// own (up to 8 per core), and the snapshot is built on Dispatch worker threads that change
    /// from one refresh to the next: each arena kept the pages of the snapshots it had freed,
    /// which was most of the ~75 MB the live view held above `snapshot` (measured: 206 MB with
    /// the default, 146 MB with one arena, on the default fleet with a full window). The hot
    /// record path does not allocate, so fewer arenas cost no contention there.
    static func configureAllocator() {
        #if os(Linux)
        _ = glibcMallopt(M_ARENA_MAX, 1)
        #endif
    }

    /// Gives freed memory back to the system (after a large snapshot is replaced).
    static func trim() {
        #if os(Linux)
        _ = glibcMallocTrim(0)
        #endif
    }

    static func residentBytes() -> Int { statusField("VmRSS:") }
    static func peakBytes() -> Int { statusField("VmHWM:") }

    private static func statusField(_ name: String) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for l in status.split(separator: "\n") where l.hasPrefix(name) {
            return (l.split(separator: " ").compactMap { Int($0) }.first ?? 0) * 1024
        }
        return 0
    }
}
