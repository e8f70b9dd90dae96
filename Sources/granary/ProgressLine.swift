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

    /// Nothing shows during the first interval: short runs print no progress at all.
    init(label: String, unit: Unit = .bytes) {
        self.label = label
        self.unit = unit
        lastShown = Atomic(start)
    }

    func show(done: Int, total: Int, detail: String) {
        let now = DispatchTime.now().uptimeNanoseconds
        let interval: UInt64 = isTerminal ? 100_000_000 : 5_000_000_000
        let last = lastShown.load(ordering: .relaxed)
        // UInt64.max marks the final line as shown; a run's last call shows it once.
        let due = last != UInt64.max && (now >= last + interval || (done >= total && total > 0))
        guard due else { return }
        lastShown.store(done >= total && total > 0 ? UInt64.max : now, ordering: .relaxed)
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
            drew.store(true, ordering: .relaxed)
        } else {
            FileHandleOutput.standardError("\(label): \(stats)")
        }
    }

    /// Ends the bar's line on a terminal.
    func finish() {
        if drew.load(ordering: .relaxed) { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
