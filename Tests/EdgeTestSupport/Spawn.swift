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
    guard let pid = launch(path, arguments, environment: environment, stdout: outPath, stderr: errPath) else {
        return ProcessResult(status: -1, stdout: "", stderr: "spawn failed")
    }
    var code = waitForExit(pid, timeout: timeout)
    if code == nil {
        kill(pid, SIGKILL)
        code = waitForExit(pid, timeout: 10)
    }
    let out = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
    let err = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
    return ProcessResult(status: code ?? 137, stdout: out, stderr: err)
}

/// Starts `path` with stdin from /dev/null and stdout (and stderr, or stderr into stdout when
/// nil) written to files. `environment` entries are added to ours.
func launch(_ path: String, _ arguments: [String], environment: [String: String], stdout: String, stderr: String?) -> pid_t? {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    if let stderr {
        posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    } else {
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
    }
    var env = ProcessInfo.processInfo.environment
    for (k, v) in environment { env[k] = v }
    let argv = ([path] + arguments).map { strdup($0) } + [nil]
    let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer { argv.forEach { free($0) }; envp.forEach { free($0) } }
    var pid: pid_t = 0
    return posix_spawn(&pid, path, &actions, nil, argv, envp) == 0 ? pid : nil
}

/// Waits up to `timeout` for `pid` to exit; its exit status (128 + signal when killed), or nil.
func waitForExit(_ pid: pid_t, timeout: Double) -> Int32? {
    var status: Int32 = 0
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if waitpid(pid, &status, WNOHANG) == pid { return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f) }
        usleep(5_000)
    }
    return nil
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
        guard let p = launch(path, arguments, environment: environment, stdout: logPath, stderr: nil) else { return nil }
        pid = p
    }

    /// Waits for the process to exit (up to `timeout`); returns its status, nil if still running.
    public func wait(timeout: Double) -> Int32? { waitForExit(pid, timeout: timeout) }

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

/// `edgetop snapshot --format json …` running in the background while a test feeds its
/// sources; `finish` waits for it and reads the document it printed.
public final class RunningSnapshot {
    public let pid: pid_t
    private let out = NSTemporaryDirectory() + "edgetop-snap-\(UUID().uuidString).json"
    private let err = NSTemporaryDirectory() + "edgetop-snap-\(UUID().uuidString).err"

    public init?(_ arguments: [String]) {
        guard let p = launch(edgetopBinary(), ["snapshot", "--format", "json"] + arguments, environment: [:],
                             stdout: out, stderr: err) else { return nil }
        pid = p
    }

    /// Waits up to `timeout` for it to exit; its status, the JSON it printed and its stderr.
    public func finish(timeout: Double = 20) -> (status: Int32?, json: [String: Any]?, stderr: String) {
        let status = waitForExit(pid, timeout: timeout)
        let text = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
        let json = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
        return (status, json, (try? String(contentsOfFile: err, encoding: .utf8)) ?? "")
    }

    deinit {
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, WNOHANG)
        try? FileManager.default.removeItem(atPath: out)
        try? FileManager.default.removeItem(atPath: err)
    }
}
