import EdgeCollector
import EdgeSources
import Foundation

/// A `--replay` file read into the live view's collector on a thread of its own, so the first
/// frame comes at once and the fleet fills in as the file is read; the status line says how
/// far it got, then what it found (samples kept, bad lines).
final class ReplayLoad: @unchecked Sendable {
    private let lock = NSLock()
    private let path: String
    private let total: Int
    private var bytes = 0
    private var latest = -Double.infinity
    private var finished: String?
    private var badLines = 0
    private var firstBad: String?
    /// Called once the first chunk is in and once at the end (the screen asks for a snapshot
    /// then rather than at its next refresh).
    var onMilestone: (@Sendable () -> Void)? {
        get { lock.lock(); defer { lock.unlock() }; return milestone }
        set { lock.lock(); milestone = newValue; lock.unlock() }
    }
    private var milestone: (@Sendable () -> Void)?

    /// Starts reading; throws at once (before the screen changes) for a file it cannot open.
    init(options: SourceOptions, collector: Collector, path: String) throws {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              FileManager.default.isReadableFile(atPath: path) else {
            throw UserError(description: "cannot open replay file \(path)")
        }
        self.path = path
        total = (attributes[.size] as? NSNumber)?.intValue ?? 0
        let until = options.at
        Thread.detachNewThread { [self] in
            var source = ReplaySource(collector: collector)
            source.until = until
            source.onError = { [self] e in
                lock.lock(); badLines += 1; if firstBad == nil { firstBad = "\(e)" }; lock.unlock()
            }
            source.onChunk = { [self] read, last in
                // Let the region queues catch up each MiB: a snapshot for the screen waits
                // behind at most one chunk's batches, never behind the whole file.
                collector.drain()
                lock.lock()
                let first = bytes == 0
                bytes = read; latest = last
                let call = first ? milestone : nil
                lock.unlock()
                call?()
            }
            let outcome = Result { try source.replay(path: path) }
            lock.lock()
            switch outcome {
            case .success(let o):
                if o.lastTime.isFinite { latest = until ?? o.lastTime }
                bytes = total
                let bad = o.errorCount == 1 ? "1 bad line" : "\(o.errorCount) bad lines"
                let first = o.errors.first.map { " (first: \($0))" } ?? ""
                finished = o.samples == 0 ? "replay: \(path): no valid sample (\(bad)\(first))"
                    : "replay: \(o.samples) samples\(o.errorCount > 0 ? ", \(bad) skipped\(first)" : "")"
            case .failure(let e):
                finished = "replay: \(e)"
            }
            let call = milestone
            lock.unlock()
            call?()
        }
    }

    /// The fleet is shown at the latest sample read (the replay's clock).
    var time: Double {
        lock.lock(); defer { lock.unlock() }
        return latest.isFinite ? latest : Date().timeIntervalSince1970
    }

    var isDone: Bool { lock.lock(); defer { lock.unlock() }; return finished != nil }

    /// For the status line: progress while reading, then the outcome; the first bad line.
    var problems: [String] {
        lock.lock(); defer { lock.unlock() }
        var out: [String] = []
        if let finished {
            out.append(finished)
        } else {
            let pct = total > 0 ? Int((Double(bytes) / Double(total) * 100).rounded(.down)) : 0
            out.append("replay: loading \(pct)% (\(bytes >> 20) of \(total >> 20) MiB)")
        }
        if finished == nil, let firstBad { out.append("\(path): \(firstBad)\(badLines > 1 ? " (+\(badLines - 1) more)" : "")") }
        return out
    }
}
