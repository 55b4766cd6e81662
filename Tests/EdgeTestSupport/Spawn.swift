import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Result of running a program to completion.
public struct ProcessResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

/// Runs `path` with `arguments`, stdin from /dev/null, stdout and stderr captured through temp
/// files (no pipe to fill up), waiting with `waitpid` — Foundation's `Process` was seen to hang
/// on programs that leave daemons behind (tmux). `environment` entries are added to ours.
public func spawn(_ path: String, _ arguments: [String], environment: [String: String] = [:],
                  timeout: Double = 120) -> ProcessResult {
    let dir = NSTemporaryDirectory()
    let id = UUID().uuidString
    let outPath = dir + "edgetop-\(id).out", errPath = dir + "edgetop-\(id).err"
    defer { try? FileManager.default.removeItem(atPath: outPath); try? FileManager.default.removeItem(atPath: errPath) }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    var env = ProcessInfo.processInfo.environment
    for (k, v) in environment { env[k] = v }
    let argv = ([path] + arguments).map { strdup($0) } + [nil]
    let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer { argv.forEach { free($0) }; envp.forEach { free($0) } }
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, path, &actions, nil, argv, envp)
    guard rc == 0 else { return ProcessResult(status: -1, stdout: "", stderr: "spawn failed: \(rc)") }
    var status: Int32 = 0
    let deadline = Date().addingTimeInterval(timeout)
    while waitpid(pid, &status, WNOHANG) == 0 {
        if Date() > deadline { kill(pid, SIGKILL); waitpid(pid, &status, 0); break }
        usleep(5_000)
    }
    let code: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    let out = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
    let err = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
    return ProcessResult(status: code, stdout: out, stderr: err)
}

/// The built `edgetop` binary: `EDGETOP_BIN`, else beside the test bundle, else .build/debug.
public func edgetopBinary() -> String {
    if let p = ProcessInfo.processInfo.environment["EDGETOP_BIN"], !p.isEmpty { return p }
    var candidates: [String] = []
    let exe = URL(fileURLWithPath: CommandLine.arguments.first ?? "")
    var dir = exe.deletingLastPathComponent()
    for _ in 0..<4 {
        candidates.append(dir.appendingPathComponent("edgetop").path)
        dir.deleteLastPathComponent()
    }
    candidates.append(repositoryRoot().appendingPathComponent(".build/debug/edgetop").path)
    return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates.last!
}

/// Path of a program on PATH, if installed.
public func which(_ name: String) -> String? {
    for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
        let p = "\(dir)/\(name)"
        if FileManager.default.isExecutableFile(atPath: p) { return p }
    }
    return nil
}

/// A process left running in the background (a server a test talks to); killed on `stop`.
public final class BackgroundProcess {
    public let pid: pid_t
    public let logPath: String

    /// Starts `path` with `arguments`; stdout and stderr go to a log file.
    public init?(_ path: String, _ arguments: [String], environment: [String: String] = [:]) {
        logPath = NSTemporaryDirectory() + "edgetop-bg-\(UUID().uuidString).log"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { argv.forEach { free($0) }; envp.forEach { free($0) } }
        var p: pid_t = 0
        guard posix_spawn(&p, path, &actions, nil, argv, envp) == 0 else { return nil }
        pid = p
    }

    /// Waits for the process to exit (up to `timeout`); returns its status, nil if still running.
    public func wait(timeout: Double) -> Int32? {
        var status: Int32 = 0
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if waitpid(pid, &status, WNOHANG) == pid { return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f) }
            usleep(20_000)
        }
        return nil
    }

    public var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    public func stop() {
        kill(pid, SIGTERM)
        if wait(timeout: 3) == nil { kill(pid, SIGKILL); _ = wait(timeout: 3) }
    }

    deinit {
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, WNOHANG)
        try? FileManager.default.removeItem(atPath: logPath)
    }
}

/// A TCP/UDP port number unlikely to be in use: random in a range no service claims by default.
public func freePort() -> Int { Int.random(in: 20_000...29_999) }

/// Waits until something accepts TCP connections on 127.0.0.1:`port`.
public func waitForPort(_ port: Int, timeout: Double = 10) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = UInt16(port).bigEndian
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        close(fd)
        if rc == 0 { return true }
        usleep(100_000)
    }
    return false
}

/// Runs curl with `arguments` (plus the URL in them); returns the HTTP status, the content type
/// and the body (written to a temp file, not through a pipe).
public func curl(_ arguments: [String]) -> (status: Int, type: String, body: String) {
    guard let curl = which("curl") else { return (0, "", "") }
    let bodyFile = NSTemporaryDirectory() + "edgetop-curl-\(UUID().uuidString)"
    defer { try? FileManager.default.removeItem(atPath: bodyFile) }
    let r = spawn(curl, ["-s", "-o", bodyFile, "-w", "%{http_code} %{content_type}"] + arguments, timeout: 30)
    let parts = r.stdout.split(separator: " ", maxSplits: 1)
    let body = (try? String(contentsOfFile: bodyFile, encoding: .utf8)) ?? ""
    return (Int(parts.first ?? "") ?? 0, parts.count > 1 ? String(parts[1]) : "", body)
}
