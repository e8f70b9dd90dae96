import GranaryLMDB
import GranaryTesting
import Testing

@Suite(.consistencyChecked) struct WriteCoordinatorTests {
    @Test func concurrentSubmissionsShareCommits() async throws {
        let dir = TemporaryDirectory()
        let env = try Environment(directory: dir.path)
        let db = try env.openDatabase("items")
        let coordinator = WriteCoordinator(environment: env)
        let writers = 500
        let results = try await withThrowingTaskGroup(of: Int.self) { group in
            for i in 0..<writers {
                group.addTask {
                    try await coordinator.submit { txn in
                        try txn.put(db, key(i), key(i * 2))
                        return i
                    }
                }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(results.sorted() == Array(0..<writers))
        let count = try env.read { try $0.count(db) }
        #expect(count == writers)
        let counters = coordinator.counters
        #expect(counters.jobs == writers)
        // Group commit: many callers per transaction.
        #expect(counters.commits < writers)
    }

    struct Rejected: Error {}

    @Test func aFailingJobRollsBackOnlyItsOwnWrites() async throws {
        let dir = TemporaryDirectory()
        let env = try Environment(directory: dir.path)
        let db = try env.openDatabase("items")
        let coordinator = WriteCoordinator(environment: env)
        let outcomes = await withTaskGroup(of: (Int, Bool).self) { group in
            for i in 0..<100 {
                group.addTask {
                    do {
                        try await coordinator.submit { txn in
                            try txn.put(db, key(i), [1])
                            if i % 10 == 0 { throw Rejected() }
                        }
                        return (i, true)
                    } catch {
                        return (i, false)
                    }
                }
            }
            return await group.reduce(into: [Int: Bool]()) { $0[$1.0] = $1.1 }
        }
        for i in 0..<100 {
            #expect(outcomes[i] == (i % 10 != 0))
            #expect(try env.read { try $0.contains(db, key(i)) } == (i % 10 != 0))
        }
    }

    @Test func resultsArriveAfterTheCommitIsVisible() async throws {
        let dir = TemporaryDirectory()
        let env = try Environment(directory: dir.path)
        let db = try env.openDatabase("items")
        let coordinator = WriteCoordinator(environment: env)
        for i in 0..<20 {
            try await coordinator.submit { txn in try txn.put(db, key(i), [UInt8(i)]) }
            // Visible to a fresh reader as soon as submit returns.
            #expect(try readValue(env, db, key(i)) == [UInt8(i)])
        }
    }

    func readValue(_ env: Environment, _ db: Database, _ k: [UInt8]) throws -> [UInt8]? {
        try env.read { try $0.value(db, k) }
    }
}
