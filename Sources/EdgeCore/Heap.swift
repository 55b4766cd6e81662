#if os(Linux)
// glibc's <malloc.h> is not part of the Glibc module.
@_silgen_name("mallopt") private func glibcMallopt(_ param: Int32, _ value: Int32) -> Int32
@_silgen_name("malloc_trim") private func glibcMallocTrim(_ pad: Int) -> Int32
private let M_MMAP_THRESHOLD: Int32 = -3
private let M_ARENA_MAX: Int32 = -8
#endif

/// The C heap's settings. A snapshot is tens of megabytes at 44k nodes, built about once a
/// second and dropped when the next one is on screen; how glibc keeps what it frees decides
/// most of the live view's resident memory above the collector's own state. No-ops off glibc.
public enum Heap {
    /// Called once at start, before any thread allocates:
    /// - one arena: by default every thread that allocates gets an arena of its own (up to 8
    ///   per core) and snapshots are built on Dispatch threads that change from one refresh to
    ///   the next; each arena kept the pages of the snapshots it had freed (default fleet, full
    ///   window: 206 MB with the default, 146 MB with one arena). The record path does not
    ///   allocate, so one arena costs no contention there.
    /// - a fixed mmap threshold of 256 KiB: glibc raises its threshold to the largest block
    ///   freed (up to 32 MiB), after which a snapshot's big arrays come from the heap, and the
    ///   holes they leave stay resident (44k nodes: 660 MB with the raise, 615 MB without;
    ///   577 MB with `trim` after each refresh as well).
    public static func configure() {
        #if os(Linux)
        _ = glibcMallopt(M_ARENA_MAX, 1)
        _ = glibcMallopt(M_MMAP_THRESHOLD, 256 << 10)
        #endif
    }

    /// Hands free heap pages back to the system (malloc_trim(0)): 0.3–6 ms at 44k nodes, so
    /// call it off the UI thread, after a large structure was dropped.
    public static func trim() {
        #if os(Linux)
        _ = glibcMallocTrim(0)
        #endif
    }
}
