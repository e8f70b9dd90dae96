import Dispatch
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Progress of a long run on standard error: a bar redrawn in place on a terminal, a plain
/// line every few seconds otherwise (logs and CI keep a readable record).
final class ProgressLine: Sendable {
    /// What `done` and `total` count: bytes (shown in MB) or items such as HTTP calls.
    enum Unit: Sendable {
        case bytes
        case items(String)
    }

    private let label: String
    private let unit: Unit
    private let isTerminal = isatty(STDERR_FILENO) == 1
    private let start = DispatchTime.now().uptimeNanoseconds
    private let lastShown: Atomic<UInt64>
    private let drew = Atomic<Bool>(false)
    /// The latest figures, and whether they are on screen: the run's last call may come
    /// within the redraw interval, and ``finish()`` shows it then.
    private let latest = Mutex<(done: Int, total: Int, detail: String, shown: Bool)?>(nil)

    /// Nothing shows during the first interval: short runs print no progress at all.
    init(label: String, unit: Unit = .bytes) {
        self.label = label
        self.unit = unit
        lastShown = Atomic(start)
    }

    func show(done: Int, total: Int, detail: String) {
        let now = DispatchTime.now().uptimeNanoseconds
        let interval: UInt64 = isTerminal ? 100_000_000 : 5_000_000_000
        let due = now >= lastShown.load(ordering: .relaxed) + interval
        latest.withLock { $0 = (done, total, detail, due) }
        guard due else { return }
        lastShown.store(now, ordering: .relaxed)
        draw(done: done, total: total, detail: detail, now: now)
    }

    private func draw(done: Int, total: Int, detail: String, now: UInt64) {
        let fraction = total > 0 ? min(1, Double(done) / Double(total)) : 0
        let seconds = Double(now - start) / 1e9
        let stats: String
        switch unit {
        case .bytes:
            let rate = seconds > 0 ? Double(done) / 1e6 / seconds : 0
            stats = "\(Int(fraction * 100))% \(done / 1_000_000)/\(total / 1_000_000) MB \(Int(rate)) MB/s \(detail)"
        case .items(let name):
            let rate = seconds > 0 ? Double(done) / seconds : 0
            stats = "\(Int(fraction * 100))% \(done)/\(total) \(name) \(Int(rate))/s \(detail)"
        }
        if isTerminal {
            let width = 30
            let filled = Int(fraction * Double(width))
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            FileHandle.standardError.write(Data("\r\(label) [\(bar)] \(stats)\u{1B}[K".utf8))
        } else {
            FileHandleOutput.standardError("\(label): \(stats)")
        }
        drew.store(true, ordering: .relaxed)
    }

    /// Shows the final figures if the bar was drawn but they were not, and ends the bar's line
    /// on a terminal.
    func finish() {
        guard drew.load(ordering: .relaxed), let last = latest.withLock({ $0 }) else { return }
        if !last.shown { draw(done: last.done, total: last.total, detail: last.detail, now: DispatchTime.now().uptimeNanoseconds) }
        if isTerminal { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
