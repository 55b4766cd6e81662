import ArgumentParser
import EdgeCore
import Foundation

/// `edgetop`: watch a fleet of edge GPU inference sites from a terminal.
struct Edgetop: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "edgetop",
        abstract: "Live dashboard for fleets of edge GPU inference sites.",
        discussion: """
        With no subcommand, opens the interactive view on the embedded simulated fleet.
        `edgetop snapshot` prints the same views once, for scripts and CI.
        """,
        version: "0.1.0",
        subcommands: [Top.self, Snapshot.self, Route.self, Serve.self, Bench.self, FakeFleet.self, MemoryProbe.self],
        defaultSubcommand: Top.self
    )
}

/// Exit statuses: 0 ok, 1 a --check failed, 2 usage or input error.
enum ExitStatus {
    static let usage: Int32 = 2
}

/// A one-line error for the user; the process exits with `code`.
struct UserError: Error, CustomStringConvertible {
    var description: String
    var code: Int32 = ExitStatus.usage
}

@main
enum Main {
    static func main() {
        Heap.configure()
        do {
            var command = try Edgetop.parseAsRoot()
            try command.run()
        } catch let error as UserError {
            FileHandle.standardError.write(Data(("edgetop: " + error.description + "\n").utf8))
            exit(error.code)
        } catch {
            let code = Edgetop.exitCode(for: error)
            if code == .success {  // --help, --version
                print(Edgetop.fullMessage(for: error))
                exit(0)
            }
            if let e = error as? ExitCode { exit(e.rawValue) }
            // ArgumentParser's own messages are already one line; point at --help.
            let message = Edgetop.message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
            FileHandle.standardError.write(Data("edgetop: \(message) (see edgetop --help)\n".utf8))
            exit(ExitStatus.usage)
        }
    }
}
