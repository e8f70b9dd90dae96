import Dispatch
import Synchronization

/// The PUTs of one upload's sealed packs to its object store: at most four in flight (more buy
/// nothing from one client and cost the store), the first failure kept for the upload to fail
/// with, and the names sent remembered so a failed upload can remove them.
final class PackUploads: Sendable {
    static let inFlight = 4
    let target: ObjectPacks
    private let slots = DispatchSemaphore(value: PackUploads.inFlight)
    private let state = Mutex(State())

    private struct State {
        var tasks: [Task<Void, Never>] = []
        /// Tasks before this one have been awaited by ``send(_:)``.
        var awaited = 0
        var sent: [UInt32] = []
        var failure: StoreError?
    }

    init(target: ObjectPacks) { self.target = target }

    /// Starts sending `pack` (sealed: synced, no more appends), blocking the calling thread
    /// while four are in flight: for the ingest lane, a dispatch thread, never the cooperative pool.
    /// Throws the failure of an earlier PUT, so the upload stops early.
    func sendWaiting(_ pack: OpenPack) throws(StoreError) {
        if let failure = state.withLock({ $0.failure }) { throw failure }
        slots.wait()
        start(pack)
    }

    /// Starts sending `pack`, awaiting an earlier PUT while four are in flight.
    func send(_ pack: OpenPack) async {
        while slots.wait(timeout: .now()) == .timedOut {
            let oldest = state.withLock { state -> Task<Void, Never>? in
                guard state.awaited < state.tasks.count else { return nil }
                defer { state.awaited += 1 }
                return state.tasks[state.awaited]
            }
            if let oldest { await oldest.value } else { await Task.yield() }
        }
        start(pack)
    }

    private func start(_ pack: OpenPack) {
        let path = pack.appender.file.path
        let (id, size) = (pack.id, pack.writeOffset)
        let task = Task {
            defer { self.slots.signal() }
            do throws(StoreError) {
                try await self.target.upload(id, path: path, size: size)
                self.state.withLock { $0.sent.append(id) }
            } catch {
                self.state.withLock { $0.failure = $0.failure ?? error }
            }
        }
        state.withLock { $0.tasks.append(task) }
    }

    /// Waits for every PUT started; throws the first failure.
    func finish() async throws(StoreError) {
        for task in state.withLock({ $0.tasks }) { await task.value }
        if let failure = state.withLock({ $0.failure }) { throw failure }
    }

    /// Removes the objects sent (the upload failed, so nothing references them), best effort:
    /// what a store that is down keeps, the orphan sweep removes once `gc.orphan_age` passed.
    func removeSent() async {
        _ = try? await finish()
        for id in state.withLock({ $0.sent }) { try? await target.delete(id) }
    }
}
