#if canImport(Glibc)
import Glibc
#endif

/// The C heap's settings for a long-running view. glibc raises its mmap threshold to the size
/// of the largest block freed (up to 32 MiB), after which a snapshot's big arrays come from the
/// heap instead of their own mappings, and what they leave behind when freed stays resident in
/// the arena of whichever thread freed it. Measured on the live view at 44k nodes: 660 MB
/// resident, 577 MB with a fixed threshold and a trim after each refresh. No-ops off glibc.
public enum Heap {
    /// Fixes the mmap threshold at 256 KiB (mallopt's M_MMAP_THRESHOLD, which also turns the
    /// dynamic raise off): blocks that large are mapped and unmapped on their own.
    public static func keepLargeBlocksMapped() {
        #if canImport(Glibc)
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        if let f = symbol("mallopt") { _ = unsafeBitCast(f, to: Mallopt.self)(-3 /* M_MMAP_THRESHOLD */, 256 << 10) }
        #endif
    }

    /// Hands free heap pages back to the system (malloc_trim(0)): a few milliseconds at 44k
    /// nodes, so call it off the UI thread, after a large structure was dropped.
    public static func trim() {
        #if canImport(Glibc)
        typealias MallocTrim = @convention(c) (Int) -> Int32
        if let f = symbol("malloc_trim") { _ = unsafeBitCast(f, to: MallocTrim.self)(0) }
        #endif
    }

    #if canImport(Glibc)
    /// glibc's malloc.h is not part of the Glibc module: look the functions up by name.
    private static func symbol(_ name: String) -> UnsafeMutableRawPointer? {
        dlsym(UnsafeMutableRawPointer(bitPattern: 0), name)
    }
    #endif
}
