import Synchronization

/// The calls a load times.
package enum LoadOperation: Sendable, Hashable, CaseIterable {
    case create, upload, download, list, patch, delete
}

/// What the workers of a load record, shared by all of them: latencies by operation, errors
/// by key, and the first message of each error key (to tell the user what went wrong).
/// Recording happens once per HTTP call, so one lock costs nothing measurable.
final class LoadRecorder: Sendable {
    private struct State {
        var latencies: [LoadOperation: LatencyHistogram] = [:]
        var errors: [String: Int] = [:]
        var firstMessages: [String: String] = [:]
    }
    private let state = Mutex(State())
    /// Payload bytes handed to the network so far, for the progress line.
    let bytesSent = Atomic<Int>(0)
    /// Jobs finished so far, for the progress line.
    let done = Atomic<Int>(0)
    private let failureCount = Atomic<Int>(0)

    /// Errors so far, for the progress line.
    var failures: Int { failureCount.load(ordering: .relaxed) }

    func record(_ operation: LoadOperation, _ duration: Duration) {
        state.withLock { $0.latencies[operation, default: LatencyHistogram()].record(duration) }
    }

    /// Records a failure; anything not a ``BenchError`` came from the transport.
    func fail(_ error: any Error, count: Int = 1) {
        let error = error as? BenchError ?? BenchError(.connection, "\(error)")
        failureCount.add(count, ordering: .relaxed)
        state.withLock { state in
            state.errors[error.key, default: 0] += count
            if state.firstMessages[error.key] == nil { state.firstMessages[error.key] = error.message }
        }
    }

    func summary(_ operation: LoadOperation) -> LatencySummary {
        state.withLock { $0.latencies[operation]?.summary } ?? LatencyHistogram().summary
    }

    func count(_ operation: LoadOperation) -> Int {
        state.withLock { $0.latencies[operation]?.count ?? 0 }
    }

    var errors: [String: Int] { state.withLock { $0.errors } }

    /// One line per error key: its count and the first message seen.
    var errorLines: [String] {
        state.withLock { state in
            state.errors.keys.sorted().map { "error \($0) ×\(state.errors[$0] ?? 0): \(state.firstMessages[$0] ?? "")" }
        }
    }
}

/// Progress of a running load, as the progress line shows it.
package struct LoadProgress: Sendable {
    package let phase: String
    /// Bytes (upload, download) or calls (metadata) done, and of how many.
    package let done: Int
    package let total: Int
    package let errors: Int
}
