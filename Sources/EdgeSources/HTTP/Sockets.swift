import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The listening-socket setup the HTTP server and the StatsD receiver share.
enum Sockets {
    struct Failure: Error, CustomStringConvertible { var description: String }

    /// A socket of `type` bound to `host:port` (IPv4), with a 200 ms receive timeout so a
    /// blocking loop can look at its stop flag. Returns the descriptor and the bound port
    /// (useful with port 0).
    static func bound(host: String, port: UInt16, type: Int32, what: String) throws -> (fd: Int32, port: UInt16) {
        let fd = socket(AF_INET, type, 0)
        guard fd >= 0 else { throw Failure(description: "cannot open a socket for \(what)") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        guard inet_pton(AF_INET, host, &addr.sin_addr) == 1 else {
            close(fd)
            throw Failure(description: "\(what): \(host) is not an IPv4 address")
        }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw Failure(description: "cannot listen for \(what) on \(host):\(port): \(reason)")
        }
        var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var bound = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &bound) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        return (fd, UInt16(bigEndian: bound.sin_port))
    }
}

/// A loop on its own thread that a listener stops: `stop()` raises the flag, waits for the
/// loop to notice (its socket's 200 ms receive timeout bounds the wait) and closes the socket.
final class SocketLoop: @unchecked Sendable {
    private let lock = NSLock()
    private var stopping = false
    private var thread: Thread?

    var isStopping: Bool { lock.lock(); defer { lock.unlock() }; return stopping }

    func start(name: String, _ body: @escaping @Sendable () -> Void) {
        let t = Thread(block: body)
        t.name = name
        thread = t
        t.start()
    }

    /// Stops the loop and closes `fd` (set to -1).
    func stop(closing fd: inout Int32) {
        lock.lock(); stopping = true; lock.unlock()
        while thread?.isFinished == false { usleep(10_000) }
        if fd >= 0 { close(fd); fd = -1 }
    }
}
