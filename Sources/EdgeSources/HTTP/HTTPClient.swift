import CEdgeLinux
import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A GET request for `HTTPClient`.
public struct HTTPClientRequest: Sendable {
    public var url: URL
    public var headers: [(name: String, value: String)]
    /// Seconds for the whole exchange: connect, TLS, request and the complete answer.
    public var timeout: Double

    public init(url: URL, headers: [(name: String, value: String)] = [], timeout: Double) {
        self.url = url; self.headers = headers; self.timeout = timeout
    }
}

/// Why a request failed, in the words an operator reads on a node.
public enum HTTPClientError: Error, Equatable, CustomStringConvertible {
    case badURL(String)
    case unknownHost(String)
    case refused
    case unreachable(String)
    case timedOut
    case tls(String)
    case protocolError(String)
    case cancelled

    public var description: String {
        switch self {
        case .badURL(let u): "not an http(s) URL: \(u)"
        case .unknownHost(let h): "unknown host \(h)"
        case .refused: "connection refused"
        case .unreachable(let why): why
        case .timedOut: "timed out"
        case .tls(let why): "TLS: \(why)"
        case .protocolError(let why): why
        case .cancelled: "cancelled"
        }
    }
}

/// A small HTTP/1.1 client for scrapes and queries: one event-loop thread (epoll) drives every
/// request with non-blocking sockets, keep-alive connections are reused per host, each request
/// has one deadline for the whole exchange, and cancellation closes the connection from the
/// loop thread (safe at any point, mid-body included). HTTPS through the system's OpenSSL;
/// gzip bodies inflated. No libcurl, so the binary links statically.
public final class HTTPClient: @unchecked Sendable {
    /// Largest body accepted (after inflating).
    public let maxBodyBytes: Int
    /// Idle keep-alive connections kept per host:port, and for how long.
    static let maxIdlePerHost = 16
    static let idleSeconds = 30.0
    /// What a connection waiting to read is registered for.
    static let readEvents = edgetop_EPOLLIN | edgetop_EPOLLRDHUP

    private let epoll: Int32
    private let wake: Int32
    private let lock = NSLock()
    private var inbox: [Message] = []
    private var stopping = false
    private var nextID: UInt64 = 0
    private var thread: Thread?

    // Loop thread only.
    private var byFD: [Int32: Exchange] = [:]
    /// Every exchange not yet completed: scheduled, resolving or in flight.
    private var byID: [UInt64: Exchange] = [:]
    /// Started and not completed (their deadlines are watched).
    private var inFlight: [UInt64: Exchange] = [:]
    /// Exchanges waiting for their start time, latest first (so the next is `last`).
    private var scheduled: [Exchange] = []
    private var idle: [String: [IdleConnection]] = [:]
    private var idleFDs: [Int32: String] = [:]
    private var earlyCancels: Set<UInt64> = []
    private var resolved: [String: (address: SocketAddress, until: Double)] = [:]
    private var readBuffer = [UInt8](repeating: 0, count: 65_536)

    enum Message {
        case submit(Exchange)
        case cancel(UInt64)
        case resolved(UInt64, Result<SocketAddress, HTTPClientError>)
    }

    public init(maxBodyBytes: Int = 64 << 20) {
        self.maxBodyBytes = maxBodyBytes
        epoll = edgetop_epoll_create()
        wake = edgetop_eventfd()
        _ = edgetop_epoll_add(epoll, wake, edgetop_EPOLLIN)
        // The loop holds the client until `shutdown()` (owners call it when they stop).
        let t = Thread { [self] in loop() }
        t.name = "edgetop.http-client"
        thread = t
        t.start()
    }

    deinit {
        close(wake)
        close(epoll)
    }

    /// Stops the loop: requests still in flight complete with `.cancelled`. Call it when done
    /// with the client (its thread keeps it alive until then).
    public func shutdown() {
        lock.lock()
        let already = stopping
        stopping = true
        lock.unlock()
        if already { return }
        poke()
        while thread?.isFinished == false { usleep(1_000) }
    }

    /// GET `request`, not before `notBefore` (seconds since the epoch; 0: now); `completion`
    /// runs exactly once, on the client's thread (keep it short). Returns an id for `cancel`.
    @discardableResult
    public func get(_ request: HTTPClientRequest, notBefore: Double = 0,
                    completion: @escaping @Sendable (Result<HTTPClientResponse, HTTPClientError>) -> Void) -> UInt64 {
        lock.lock()
        nextID &+= 1
        let id = nextID
        let stopped = stopping
        let fromLoop = loopThread.map { pthread_equal($0, pthread_self()) != 0 } ?? false
        if !stopped {
            let ex = Exchange(id: id, request: request, completion: completion)
            ex.notBefore = notBefore
            inbox.append(.submit(ex))
        }
        lock.unlock()
        if stopped { completion(.failure(.cancelled)); return id }
        // From a completion (the loop thread) the loop sees the inbox before it waits again.
        if !fromLoop { poke() }
        return id
    }

    /// Cancels request `id` (if it has not completed): its connection is closed and it
    /// completes with `.cancelled`.
    public func cancel(_ id: UInt64) {
        post(.cancel(id))
    }

    /// GET `request`, suspending until the answer; cancelling the task cancels the request.
    public func get(_ request: HTTPClientRequest) async throws -> HTTPClientResponse {
        let box = IDBox()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<HTTPClientResponse, any Error>) in
                let id = get(request) { c.resume(with: $0.mapError { $0 as any Error }) }
                if box.set(id) { cancel(id) }  // cancelled before the id was known
            }
        } onCancel: {
            if let id = box.cancelled() { cancel(id) }
        }
    }

    private func post(_ m: Message) {
        lock.lock(); inbox.append(m); lock.unlock()
        poke()
    }

    private func poke() {
        var one: UInt64 = 1
        _ = write(wake, &one, 8)
    }

    // MARK: the loop

    /// Set once by the loop (under `lock`).
    private var loopThread: pthread_t?

    private func loop() {
        lock.lock(); loopThread = pthread_self(); lock.unlock()
        var fds = [Int32](repeating: 0, count: 256)
        var events = [UInt32](repeating: 0, count: 256)
        while true {
            lock.lock()
            let messages = inbox
            inbox.removeAll(keepingCapacity: true)
            let stop = stopping
            lock.unlock()
            if stop { break }
            for m in messages { handle(m) }
            var now = Date().timeIntervalSince1970
            while let next = scheduled.last, next.notBefore <= now {
                scheduled.removeLast()
                if byID[next.id] != nil { start(next) }
            }
            now = Date().timeIntervalSince1970
            var wait = 1.0
            for ex in inFlight.values { wait = min(wait, ex.deadline - now) }
            if let next = scheduled.last { wait = min(wait, next.notBefore - now) }
            let n = edgetop_epoll_wait(epoll, &fds, &events, 256, Int32(max(0, min(1000, (wait * 1000).rounded(.up)))))
            for i in 0..<max(0, Int(n)) {
                let fd = fds[i]
                if fd == wake {
                    var v: UInt64 = 0
                    _ = read(wake, &v, 8)
                    continue
                }
                if let ex = byFD[fd] { drive(ex, events: events[i]) } else if idleFDs[fd] != nil { dropIdle(fd) }
            }
            expire(now: Date().timeIntervalSince1970)
        }
        for ex in Array(byID.values) { finish(ex, .failure(.cancelled), reuse: false) }
        for fd in Array(idleFDs.keys) { dropIdle(fd) }
    }

    private func handle(_ m: Message) {
        switch m {
        case .submit(let ex):
            if earlyCancels.remove(ex.id) != nil { ex.completion(.failure(.cancelled)); return }
            byID[ex.id] = ex
            if ex.notBefore > Date().timeIntervalSince1970 {
                // Keep `scheduled` sorted latest first: binary search for the slot.
                var lo = 0, hi = scheduled.count
                while lo < hi {
                    let mid = (lo + hi) / 2
                    if scheduled[mid].notBefore > ex.notBefore { lo = mid + 1 } else { hi = mid }
                }
                scheduled.insert(ex, at: lo)
            } else {
                start(ex)
            }
        case .cancel(let id):
            if let ex = byID[id] { finish(ex, .failure(.cancelled), reuse: false) } else if earlyCancels.count < 4_096 { earlyCancels.insert(id) }
        case .resolved(let id, let result):
            guard let ex = byID[id] else { return }
            switch result {
            case .success(let address):
                resolved[ex.host] = (address, Date().timeIntervalSince1970 + 30)
                connect(ex, to: address)
            case .failure(let e): finish(ex, .failure(e), reuse: false)
            }
        }
    }

    private func start(_ ex: Exchange) {
        let url = ex.request.url
        guard let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = url.host, !host.isEmpty else {
            finish(ex, .failure(.badURL(url.absoluteString)), reuse: false)
            return
        }
        ex.tls = scheme == "https"
        ex.host = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        ex.port = UInt16(url.port ?? (ex.tls ? 443 : 80))
        ex.deadline = Date().timeIntervalSince1970 + ex.request.timeout
        ex.key = "\(scheme)://\(ex.host):\(ex.port)"
        ex.out = ex.requestBytes()
        inFlight[ex.id] = ex
        if let conn = takeIdle(ex.key) {
            ex.fd = conn.fd
            ex.tlsConnection = conn.tls
            ex.reused = true
            ex.watching = Self.readEvents  // as it was left idle
            byFD[conn.fd] = ex
            ex.state = .writing
            drive(ex, events: edgetop_EPOLLOUT)
            return
        }
        open(ex)
    }

    private func open(_ ex: Exchange) {
        if let address = SocketAddress(numeric: ex.host, port: ex.port) { connect(ex, to: address); return }
        if let cached = resolved[ex.host], cached.until > Date().timeIntervalSince1970 {
            connect(ex, to: cached.address.with(port: ex.port))
            return
        }
        ex.state = .resolving
        let id = ex.id, host = ex.host, port = ex.port
        DispatchQueue.global().async { [weak self] in
            let result = SocketAddress.resolve(host, port: port)
            self?.post(.resolved(id, result))
        }
    }

    private func connect(_ ex: Exchange, to address: SocketAddress) {
        let fd = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { finish(ex, .failure(.unreachable("cannot open a socket")), reuse: false); return }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        ex.fd = fd
        byFD[fd] = ex
        let rc = address.withSockaddr { Glibc.connect(fd, $0, $1) }
        if rc != 0 && errno != EINPROGRESS {
            finish(ex, .failure(Self.connectError(errno)), reuse: false)
            return
        }
        ex.state = .connecting
        _ = edgetop_epoll_add(epoll, fd, edgetop_EPOLLOUT)
    }

    static func connectError(_ code: Int32) -> HTTPClientError {
        switch code {
        case ECONNREFUSED: return .refused
        case ETIMEDOUT: return .timedOut
        default: return .unreachable(String(cString: strerror(code)))
        }
    }

    /// Moves an exchange on as far as its socket allows.
    private func drive(_ ex: Exchange, events: UInt32) {
        while true {
            switch ex.state {
            case .resolving:
                return
            case .connecting:
                var err: Int32 = 0
                var len = socklen_t(MemoryLayout<Int32>.size)
                getsockopt(ex.fd, SOL_SOCKET, SO_ERROR, &err, &len)
                if err != 0 { finish(ex, .failure(Self.connectError(err)), reuse: false); return }
                if ex.tls {
                    do { ex.tlsConnection = try TLSConnection(fd: ex.fd, host: ex.host) } catch {
                        finish(ex, .failure(error as? HTTPClientError ?? .tls("\(error)")), reuse: false)
                        return
                    }
                    ex.state = .handshaking
                } else {
                    ex.state = .writing
                }
            case .handshaking:
                switch ex.tlsConnection!.handshake() {
                case .done: ex.state = .writing
                case .wantRead: watch(ex, Self.readEvents); return
                case .wantWrite: watch(ex, edgetop_EPOLLOUT); return
                case .closed: finish(ex, .failure(.tls("closed during the handshake")), reuse: false); return
                case .failed(let why): finish(ex, .failure(.tls(why)), reuse: false); return
                }
            case .writing:
                let remaining = ex.out.count - ex.written
                if remaining == 0 {
                    // Wait for the answer (no read now: it would only say EAGAIN).
                    ex.state = .reading
                    watch(ex, Self.readEvents)
                    return
                }
                let step: TLSConnection.Step = ex.out.withUnsafeBytes { all in
                    let rest = UnsafeRawBufferPointer(rebasing: all[ex.written...])
                    if let tls = ex.tlsConnection { return tls.write(rest) }
                    let n = send(ex.fd, rest.baseAddress, rest.count, Int32(MSG_NOSIGNAL))
                    if n >= 0 { return .done(n) }
                    return errno == EAGAIN || errno == EWOULDBLOCK ? .wantWrite : .failed(String(cString: strerror(errno)))
                }
                switch step {
                case .done(let n): ex.written += n
                case .wantWrite: watch(ex, edgetop_EPOLLOUT); return
                case .wantRead: watch(ex, Self.readEvents); return
                case .closed, .failed: retryOrFail(ex, .unreachable("connection reset while sending")); return
                }
            case .reading:
                let step: TLSConnection.Step = readBuffer.withUnsafeMutableBytes { buf in
                    if let tls = ex.tlsConnection { return tls.read(into: buf) }
                    let n = recv(ex.fd, buf.baseAddress, buf.count, 0)
                    if n > 0 { return .done(n) }
                    if n == 0 { return .closed }
                    return errno == EAGAIN || errno == EWOULDBLOCK ? .wantRead : .failed(String(cString: strerror(errno)))
                }
                switch step {
                case .done(let n):
                    ex.receivedAny = true
                    let fed = readBuffer.withUnsafeBytes { raw in
                        Result { () throws(HTTPResponseParser.Failure) -> Bool in
                            try ex.parser.feed(UnsafeRawBufferPointer(rebasing: raw[0..<n]))
                        }
                    }
                    switch fed {
                    case .success(true): complete(ex); return
                    case .success(false): break
                    case .failure(let e): finish(ex, .failure(.protocolError(e.description)), reuse: false); return
                    }
                case .wantRead:
                    watch(ex, Self.readEvents)
                    return
                case .wantWrite:
                    watch(ex, edgetop_EPOLLOUT); return
                case .closed:
                    if !ex.receivedAny { retryOrFail(ex, .protocolError("connection closed before any answer")); return }
                    do throws(HTTPResponseParser.Failure) {
                        if try ex.parser.finishAtClose() { complete(ex) }
                    } catch {
                        finish(ex, .failure(.protocolError(error.description)), reuse: false)
                    }
                    return
                case .failed(let why):
                    if !ex.receivedAny { retryOrFail(ex, .unreachable(why)); return }
                    finish(ex, .failure(.unreachable(why)), reuse: false)
                    return
                }
            }
        }
    }

    /// A reused keep-alive connection the server had already closed: try once on a new one.
    private func retryOrFail(_ ex: Exchange, _ error: HTTPClientError) {
        guard ex.reused else { finish(ex, .failure(error), reuse: false); return }
        closeConnection(ex)
        ex.reused = false
        ex.written = 0
        ex.receivedAny = false
        ex.parser = HTTPResponseParser(maxBody: maxBodyBytes)
        open(ex)
    }

    private func complete(_ ex: Exchange) {
        var response = ex.parser.response()
        if response.header("content-encoding")?.lowercased().contains("gzip") == true {
            do { response.body = try Gzip.inflate(response.body, limit: maxBodyBytes) } catch {
                finish(ex, .failure(.protocolError("gzip body does not inflate")), reuse: false)
                return
            }
        }
        finish(ex, .success(response), reuse: response.keepAlive)
    }

    private func watch(_ ex: Exchange, _ events: UInt32) {
        guard ex.watching != events else { return }
        if edgetop_epoll_mod(epoll, ex.fd, events) != 0 { _ = edgetop_epoll_add(epoll, ex.fd, events) }
        ex.watching = events
    }

    private func finish(_ ex: Exchange, _ result: Result<HTTPClientResponse, HTTPClientError>, reuse: Bool) {
        guard byID.removeValue(forKey: ex.id) != nil else { return }
        inFlight[ex.id] = nil
        if ex.fd >= 0 {
            byFD[ex.fd] = nil
            if reuse && idle[ex.key, default: []].count < Self.maxIdlePerHost {
                // Idle connections stay watched for reading: the server closing one (or saying
                // anything unasked) drops it. The same registration serves its next request.
                watch(ex, Self.readEvents)
                idle[ex.key, default: []].append(IdleConnection(fd: ex.fd, tls: ex.tlsConnection, since: Date().timeIntervalSince1970))
                idleFDs[ex.fd] = ex.key
                ex.fd = -1
                ex.tlsConnection = nil
            } else {
                closeConnection(ex)
            }
        }
        ex.completion(result)
    }

    private func closeConnection(_ ex: Exchange) {
        guard ex.fd >= 0 else { return }
        byFD[ex.fd] = nil
        _ = edgetop_epoll_del(epoll, ex.fd)
        ex.tlsConnection = nil
        close(ex.fd)
        ex.fd = -1
        ex.watching = 0
    }

    private func takeIdle(_ key: String) -> IdleConnection? {
        let now = Date().timeIntervalSince1970
        while var list = idle[key], let conn = list.popLast() {
            idle[key] = list
            idleFDs[conn.fd] = nil
            if now - conn.since < Self.idleSeconds { return conn }
            _ = edgetop_epoll_del(epoll, conn.fd)
            close(conn.fd)
        }
        return nil
    }

    private func dropIdle(_ fd: Int32) {
        guard let key = idleFDs.removeValue(forKey: fd) else { return }
        idle[key]?.removeAll { $0.fd == fd }
        _ = edgetop_epoll_del(epoll, fd)
        close(fd)
    }

    private func expire(now: Double) {
        for ex in inFlight.values where ex.deadline <= now { finish(ex, .failure(.timedOut), reuse: false) }
        for (fd, key) in idleFDs where now - (idle[key]?.first { $0.fd == fd }?.since ?? now) > Self.idleSeconds { dropIdle(fd) }
    }
}

/// One request on its way through the loop.
final class Exchange {
    enum State { case resolving, connecting, handshaking, writing, reading }
    let id: UInt64
    let request: HTTPClientRequest
    let completion: @Sendable (Result<HTTPClientResponse, HTTPClientError>) -> Void
    var host = ""
    var port: UInt16 = 0
    var tls = false
    var key = ""
    var deadline = 0.0
    var notBefore = 0.0
    var fd: Int32 = -1
    var tlsConnection: TLSConnection?
    var state = State.resolving
    var watching: UInt32 = 0
    var out: [UInt8] = []
    var written = 0
    var parser: HTTPResponseParser
    var reused = false
    var receivedAny = false

    init(id: UInt64, request: HTTPClientRequest, completion: @escaping @Sendable (Result<HTTPClientResponse, HTTPClientError>) -> Void) {
        self.id = id; self.request = request; self.completion = completion
        parser = HTTPResponseParser(maxBody: 64 << 20)
    }

    func requestBytes() -> [UInt8] {
        let url = request.url
        var target = url.path.isEmpty ? "/" : url.path
        if let q = url.query { target += "?" + q }
        let defaultPort: UInt16 = tls ? 443 : 80
        let hostHeader = (host.contains(":") ? "[\(host)]" : host) + (port == defaultPort ? "" : ":\(port)")
        var text = "GET \(target) HTTP/1.1\r\nHost: \(hostHeader)\r\nUser-Agent: edgetop/0.1\r\nAccept-Encoding: gzip\r\n"
        for (name, value) in request.headers where !value.contains("\r") && !value.contains("\n") {
            text += "\(name): \(value)\r\n"
        }
        text += "\r\n"
        return Array(text.utf8)
    }
}

struct IdleConnection {
    var fd: Int32
    var tls: TLSConnection?
    var since: Double
}

/// The request id an async `get` learns after the cancellation handler may already have run.
private final class IDBox: @unchecked Sendable {
    private let lock = NSLock()
    private var id: UInt64?
    private var wasCancelled = false

    /// Records the id; true when the task was cancelled before it was known.
    func set(_ id: UInt64) -> Bool {
        lock.lock(); defer { lock.unlock() }
        self.id = id
        return wasCancelled
    }

    /// Marks the task cancelled; the id if known.
    func cancelled() -> UInt64? {
        lock.lock(); defer { lock.unlock() }
        wasCancelled = true
        return id
    }
}
