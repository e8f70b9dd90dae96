import NIOPosix

/// Runs work that may take a while of CPU (a list that reads and checks many records) on
/// NIO's blocking thread pool: Swift's cooperative pool has one thread per core (two here),
/// so two such requests run inline there would stall every request of both listeners.
package enum OffLoop {
    package static func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await NIOThreadPool.singleton.runIfActive(work)
    }
}
