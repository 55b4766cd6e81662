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
