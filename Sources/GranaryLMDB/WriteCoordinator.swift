import CGranaryLMDB
import Dispatch
import Synchronization

/// The one writer of an ``Environment``: it batches many callers' work into one transaction.
///
/// LMDB runs one write transaction at a time and a durable commit costs an fsync (~0.35 ms here),
/// so committing each small write alone caps a server near 3k writes/s. Work submitted while a
/// commit is in flight queues up and goes into the next transaction together (group commit).
/// Each caller's work runs in its own nested transaction, so one caller's error rolls back only
/// that caller's writes; the others commit. Every caller resumes after the shared commit is durable.
///
/// The storage engine and the metadata index both submit here, so "record active + chunk
/// refcounts" is one commit without either layer knowing the other.
package final class WriteCoordinator: Sendable {
    package let environment: Environment
    /// Most jobs in one transaction; bounds the dirty pages of one commit.
    package let maxBatch: Int

    private let state = Mutex(State())
    private let queue = DispatchQueue(label: "granary.lmdb.write-coordinator", qos: .userInitiated)

    private struct State: ~Copyable {
        var pending: [any PendingWrite] = []
        var draining = false
        var commits = 0
        var jobs = 0
    }

    package init(environment: Environment, maxBatch: Int = 4096) {
        self.environment = environment
        self.maxBatch = maxBatch
    }

    /// Runs `work` in the next batched write transaction and returns its result once the
    /// transaction is committed (durably, when the environment is durable).
    ///
    /// `work` runs on the coordinator's thread and must not block on anything but LMDB.
    /// When it throws, its writes are rolled back and the error is rethrown here.
    package func submit<R: Sendable>(
        _ work: @escaping @Sendable (borrowing WriteTransaction) throws -> R
    ) async throws -> R {
        try await withCheckedThrowingContinuation { continuation in
            enqueue(Job(work: work, continuation: continuation))
        }
    }

    /// Queues `work` for the next batched transaction without waiting for it: for clean-up that
    /// must happen even where nobody can await it (a deinit). Errors are dropped, so use it only
    /// for work whose loss is harmless (recovery or fsck redoes it).
    package func post(_ work: @escaping @Sendable (borrowing WriteTransaction) throws -> Void) {
        enqueue(DetachedJob(work: work))
    }

    /// How many transactions have committed and how many jobs they carried (for tests and stats).
    package var counters: (commits: Int, jobs: Int) {
        state.withLock { ($0.commits, $0.jobs) }
    }

    private func enqueue(_ job: any PendingWrite) {
        let startDrain = state.withLock { state -> Bool in
            state.pending.append(job)
            if state.draining { return false }
            state.draining = true
            return true
        }
        if startDrain { queue.async { self.drain() } }
    }

    private func drain() {
        while true {
            let batch = state.withLock { state -> [any PendingWrite] in
                let taken = Array(state.pending.prefix(maxBatch))
                state.pending.removeFirst(taken.count)
                if taken.isEmpty { state.draining = false }
                return taken
            }
            if batch.isEmpty { return }
            let commitError = run(batch)
            state.withLock {
                $0.commits += commitError == nil ? 1 : 0
                $0.jobs += batch.count
            }
            for job in batch { job.finish(commitError: commitError) }
        }
    }

    /// Runs every job in a child of one parent transaction and commits the parent.
    /// Returns the error that stopped the commit, if any.
    private func run(_ batch: [any PendingWrite]) -> (any Error)? {
        var parent: OpaquePointer?
        do {
            try check(mdb_txn_begin(environment.handle, nil, 0, &parent), "mdb_txn_begin")
        } catch {
            return error
        }
        for job in batch {
            var child: OpaquePointer?
            do {
                try check(mdb_txn_begin(environment.handle, parent, 0, &child), "mdb_txn_begin(nested)")
                guard let child else { throw LMDBError(code: .badTransaction, operation: "mdb_txn_begin(nested)") }
                do {
                    try job.execute(WriteTransaction(handle: child))
                } catch {
                    mdb_txn_abort(child)
                    throw error
                }
                try check(mdb_txn_commit(child), "mdb_txn_commit(nested)")
            } catch {
                job.fail(error)
            }
        }
        do {
            try check(mdb_txn_commit(parent), "mdb_txn_commit")
            return nil
        } catch {
            return error
        }
    }
}

/// A submitted job, type-erased so one batch can hold callers with different result types.
private protocol PendingWrite: Sendable {
    /// Runs the work; called once, on the coordinator's thread.
    func execute(_ txn: borrowing WriteTransaction) throws
    /// Records that the work itself failed (its nested transaction was rolled back).
    func fail(_ error: any Error)
    /// Resumes the caller once the batch's commit has finished.
    func finish(commitError: (any Error)?)
}

private final class Job<R: Sendable>: PendingWrite, @unchecked Sendable {
    // Safe because `outcome` is written by the coordinator's thread before `finish` and read
    // only in `finish`, on the same thread; the continuation resumes exactly once.
    private let work: @Sendable (borrowing WriteTransaction) throws -> R
    private let continuation: CheckedContinuation<R, any Error>
    private var outcome: Result<R, any Error>?

    init(work: @escaping @Sendable (borrowing WriteTransaction) throws -> R, continuation: CheckedContinuation<R, any Error>) {
        self.work = work
        self.continuation = continuation
    }

    func execute(_ txn: borrowing WriteTransaction) throws {
        outcome = .success(try work(txn))
    }

    func fail(_ error: any Error) {
        outcome = .failure(error)
    }

    func finish(commitError: (any Error)?) {
        switch (outcome, commitError) {
        case (.failure(let error)?, _): continuation.resume(throwing: error)
        case (_, let error?): continuation.resume(throwing: error)
        case (.success(let value)?, nil): continuation.resume(returning: value)
        case (nil, nil): continuation.resume(throwing: LMDBError(code: .badTransaction, operation: "write job not run"))
        }
    }
}

private struct DetachedJob: PendingWrite {
    let work: @Sendable (borrowing WriteTransaction) throws -> Void
    func execute(_ txn: borrowing WriteTransaction) throws { try work(txn) }
    func fail(_ error: any Error) {}
    func finish(commitError: (any Error)?) {}
}
