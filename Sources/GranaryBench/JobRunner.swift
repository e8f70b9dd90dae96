import NIOCore
import NIOPosix
import Synchronization

/// One call of a job, made on a live connection; it returns the job's next call, if any.
/// A job is a chain of these (create → upload → check), so that when a server closes the
/// connection after a response (Glance under uWSGI sends `Connection: close` every time) the
/// next call goes out on a new connection.
struct JobStep: Sendable {
    let call: @Sendable (HTTPConnection) async -> JobStep?

    init(_ call: @escaping @Sendable (HTTPConnection) async -> JobStep?) {
        self.call = call
    }
}

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

    /// Runs the job `start(index)` begins, for every index; the steps record their own failures.
    /// `finished` gets the number of jobs done so far after each one (for a progress line).
    func run(count: Int, finished: (@Sendable (Int) -> Void)? = nil, _ start: @escaping @Sendable (Int) -> JobStep) async {
        let queue = Queue(count: count)
        recorder.done.store(0, ordering: .relaxed)
        let endpoint = endpoint
        let recorder = recorder
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<min(max(1, concurrency), count) {
                group.addTask {
                    var step = queue.take().map(start)
                    while let current = step {
                        do {
                            try await HTTPConnection.withConnection(to: endpoint, group: NIOSingletons.posixEventLoopGroup) { connection in
                                var next: JobStep? = current
                                while let call = next {
                                    next = await call.call(connection)
                                    if next == nil {
                                        finished?(recorder.done.add(1, ordering: .relaxed).newValue)
                                        next = queue.take().map(start)
                                    }
                                    if !connection.isReusable { break }
                                }
                                step = next
                            }
                        } catch {
                            // Connecting failed: the rest of that job is lost; the next job tries a new connection.
                            recorder.fail(error)
                            finished?(recorder.done.add(1, ordering: .relaxed).newValue)
                            step = queue.take().map(start)
                        }
                    }
                }
            }
        }
    }
}
