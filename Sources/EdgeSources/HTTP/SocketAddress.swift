import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An IPv4 or IPv6 address and port, for `connect`.
struct SocketAddress: Sendable {
    private var storage = sockaddr_storage()
    private(set) var length: socklen_t = 0

    var family: Int32 { Int32(storage.ss_family) }

    /// A literal address ("10.0.0.7", "::1"); nil for a name.
    init?(numeric host: String, port: UInt16) {
        var v4 = sockaddr_in()
        if inet_pton(AF_INET, host, &v4.sin_addr) == 1 {
            v4.sin_family = sa_family_t(AF_INET)
            v4.sin_port = port.bigEndian
            self.init(copying: &v4)
            return
        }
        var v6 = sockaddr_in6()
        if inet_pton(AF_INET6, host, &v6.sin6_addr) == 1 {
            v6.sin6_family = sa_family_t(AF_INET6)
            v6.sin6_port = port.bigEndian
            self.init(copying: &v6)
            return
        }
        return nil
    }

    private init<T>(copying address: inout T) {
        withUnsafeMutableBytes(of: &storage) { dst in
            withUnsafeBytes(of: &address) { src in dst.copyMemory(from: src) }
        }
        length = socklen_t(MemoryLayout<T>.size)
    }

    private init(raw: UnsafePointer<sockaddr>, length: socklen_t) {
        withUnsafeMutableBytes(of: &storage) { dst in
            dst.copyMemory(from: UnsafeRawBufferPointer(start: raw, count: Int(length)))
        }
        self.length = length
    }

    /// The same address with another port.
    func with(port: UInt16) -> SocketAddress {
        var copy = self
        withUnsafeMutableBytes(of: &copy.storage) { raw in
            if family == AF_INET {
                raw.withMemoryRebound(to: sockaddr_in.self) { $0[0].sin_port = port.bigEndian }
            } else {
                raw.withMemoryRebound(to: sockaddr_in6.self) { $0[0].sin6_port = port.bigEndian }
            }
        }
        return copy
    }

    func withSockaddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        var s = storage
        return withUnsafePointer(to: &s) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) }
        }
    }

    /// Resolves a host name (blocking: call off the event loop). IPv4 first, as most fleets
    /// and Prometheus' own defaults do.
    static func resolve(_ host: String, port: UInt16) -> Result<SocketAddress, HTTPClientError> {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0, let first = list else { return .failure(.unknownHost(host)) }
        defer { freeaddrinfo(list) }
        var chosen: UnsafeMutablePointer<addrinfo>? = nil
        var p: UnsafeMutablePointer<addrinfo>? = first
        while let a = p {
            if a.pointee.ai_family == AF_INET { chosen = a; break }
            if chosen == nil && a.pointee.ai_family == AF_INET6 { chosen = a }
            p = a.pointee.ai_next
        }
        guard let a = chosen, let addr = a.pointee.ai_addr else { return .failure(.unknownHost(host)) }
        return .success(SocketAddress(raw: addr, length: a.pointee.ai_addrlen))
    }
}
