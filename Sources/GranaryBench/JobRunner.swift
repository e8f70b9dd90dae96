import NIOCore
import NIOPosix
import Synchronization

/// Jobs `0 ..< count` run on `concurrency` connections: each worker takes the next job when
/// it finishes one, and reconnects when the server closed the connection or it broke.
struct JobRunner {
    let endpoint: GlanceEndpoint
    let concurrency: Int
    let recorder: LoadRecorder

    /// Final class so the workers share one counter.
    private final class Queue: Sendable {
        let next = Atomic<Int>(0)
        let count: Int
        init(count: Int) { self.count = count }
        func take() -> Int? {
            let index = next.add(1, ordering: .relaxed).oldValue
            return index < count ? index : nil
        }
    }

    /// Runs `job(index, connection)` for every index; a job records its own failures.
    func run(count: Int, _ job: @escaping @Sendable (Int, HTTPConnection) async -> Void) async {
        let queue = Queue(count: count)
        let endpoint = endpoint
        let recorder = recorder
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<min(max(1, concurrency), count) {
                group.addTask {
                    var pending = queue.take()
                    while let first = pending {
                        do {
                            try await HTTPConnection.withConnection(to: endpoint, group: NIOSingletons.posixEventLoopGroup) { connection in
                                while let index = pending {
                                    await job(index, connection)
                                    recorder.done.add(1, ordering: .relaxed)
                                    pending = queue.take()
                                    if !connection.isReusable { return }
                                }
                            }
                        } catch {
                            // Connecting failed: that job is lost; the next one tries a new connection.
                            recorder.fail(error)
                            recorder.done.add(1, ordering: .relaxed)
                            if pending == first { pending = queue.take() }
                        }
                    }
                }
            }
        }
    }
}
