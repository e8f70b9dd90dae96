import Dispatch
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Runs GC inside the server: on a schedule and when an operator asks (`POST /admin/gc`), one
/// run at a time, with its progress and last result visible (`GET /admin/gc`).
///
/// ``run()`` is the service loop; it owns every GC run, so no task outlives the server. It
/// looks for requests once a second: cheap, and an operator's request starts within a second.
package final class GCRunner: Sendable {
    /// Where the runner is.
    package enum State: String, Sendable { case idle, queued, running }

    /// What `GET /admin/gc` shows.
    package struct Status: Sendable {
        package var state = State.idle
        /// Progress of the run under way.
        package var progress: GCProgress?
        /// Unix seconds when the run under way started.
        package var startedAt: Int?
        /// The last finished run (this process's, or the last one recorded in the store).
        package var last: GCReport?
        /// Why the last run failed, if it did.
        package var lastError: String?
        /// Unix seconds of the next scheduled run (nil when scheduling is off).
        package var nextRunAt: Int?
    }

    package let store: BlobStore
    package let defaults: GCOptions
    /// Seconds between scheduled runs; 0 runs GC only on request.
    package let interval: Int
    private let state: Mutex<(status: Status, queued: GCOptions?)>

    package init(store: BlobStore, defaults: GCOptions, interval: Int) {
        self.store = store
        self.defaults = defaults
        self.interval = interval
        var status = Status()
        status.last = try? store.lastGC()
        status.nextRunAt = interval > 0 ? Int(time(nil)) + interval : nil
        state = Mutex((status, nil))
    }

    package var status: Status { state.withLock { $0.status } }

    /// Queues a run with `options` (the defaults when nil).
    /// - Returns: false when a run is already queued or running.
    package func request(_ options: GCOptions? = nil) -> Bool {
        state.withLock { state in
            guard state.status.state == .idle else { return false }
            state.status.state = .queued
            state.queued = options ?? defaults
            return true
        }
    }

    /// The service loop: runs queued and scheduled GC until the task is cancelled.
    package func run() async {
        while !Task.isCancelled {
            do {
                try await Task.sleep(nanoseconds: 1_000_000_000)
            } catch {
                return
            }
            let options = state.withLock { state -> GCOptions? in
                if let queued = state.queued {
                    state.queued = nil
                    return queued
                }
                if let next = state.status.nextRunAt, Int(time(nil)) >= next, state.status.state == .idle {
                    return defaults
                }
                return nil
            }
            if let options { await runOnce(options) }
        }
    }

    /// One run: lets go of the server's open packs (so they can be compacted), then collects.
    func runOnce(_ options: GCOptions) async {
        state.withLock { state in
            state.status.state = .running
            state.status.startedAt = Int(time(nil))
            state.status.progress = GCProgress()
        }
        store.sealOpenPacks()
        let outcome: Result<GCReport, any Error>
        do {
            outcome = .success(
                try await store.collectGarbage(options) { progress in
                    self.state.withLock { $0.status.progress = progress }
                })
        } catch {
            outcome = .failure(error)
        }
        state.withLock { state in
            state.status.state = state.queued == nil ? .idle : .queued
            state.status.progress = nil
            state.status.startedAt = nil
            switch outcome {
            case .success(let report):
                state.status.last = report
                state.status.lastError = nil
            case .failure(let error):
                state.status.lastError = "\(error)"
            }
            if interval > 0 { state.status.nextRunAt = Int(time(nil)) + interval }
        }
    }
}
