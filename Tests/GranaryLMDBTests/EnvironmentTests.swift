import Dispatch
import Foundation
import GranaryLMDB
import GranaryTesting
import Testing

/// Big-endian bytes of `n`, so key order is numeric order.
func key(_ n: Int) -> [UInt8] { withUnsafeBytes(of: UInt32(n).bigEndian) { Array($0) } }

@Suite(.consistencyChecked) struct EnvironmentTests {
    @Test func committedWritesAreVisibleToLaterReads() throws {
        let dir = TemporaryDirectory()
        let env = try Environment(directory: dir.path)
        let db = try env.openDatabase("items")
        try env.write { txn in
            try txn.put(db, Array("alpha".utf8), Array("1".utf8))
            try txn.put(db, Array("beta".utf8), Array("2".utf8))
        }
        let (alpha, count) = try env.read { txn in (try txn.value(db, Array("alpha".utf8)), try txn.count(db)) }
        #expect(alpha == Array("1".utf8))
        #expect(count == 2)
    }

    @Test func committedDataSurvivesReopen() throws {
        let dir = TemporaryDirectory()
        do {
            let env = try Environment(directory: dir.path)
            let db = try env.openDatabase("items")
            try env.write { txn in try txn.put(db, key(7), Array("seven".utf8)) }
        }
        let env = try Environment(directory: dir.path)
        let db = try env.openDatabase("items")
        #expect(try env.read { try $0.value(db, key(7)) } == Array("seven".utf8))
    }

    struct Boom: Error {}

    @Test func aThrowingWriteLeavesNothingBehind() throws {
        let dir = TemporaryDirectory()
        let env = try Environment(directory: dir.path)
        let db = try env.openDatabase("items")
        #expect(throws: Boom.self) {
            try env.write { txn in
                try txn.put(db, key(1), [1])
                throw Boom()
            }
        }
        #expect(try env.read { try $0.count(db) } == 0)
    }

    @Test func noOverwriteInsertKeepsTheFirstValue() throws {
        let dir = TemporaryDirectory()
        let env = try Environment(directory: dir.path)
        let db = try env.openDatabase("items")
        let results = try env.write { txn in
            [try txn.insert(db, key(1), [1]), try txn.insert(db, key(1), [2])]
        }
        #expect(results == [true, false])
        #expect(try env.read { try $0.value(db, key(1)) } == [1])
        let error = #expect(throws: LMDBError.self) {
            try env.write { txn in try txn.put(db, key(1), [3], flags: .noOverwrite) }
        }
        #expect(error?.code == .keyExists)
    }

    @Test func deleteRemovesOnlyWhatExists() throws {
        let dir = TemporaryDirectory()
        let env = try Environment(directory: dir.path)
        let db = try env.openDatabase("items")
        let outcome = try env.write { txn in
            try txn.put(db, key(1), [1])
            return [try txn.delete(db, key(1)), try txn.delete(db, key(1))]
        }
        #expect(outcome == [true, false])
        #expect(try env.read { try $0.contains(db, key(1)) } == false)
    }

    @Test func reserveWritesInPlace() throws {
        let dir = TemporaryDirectory()
        let env = try Environment(directory: dir.path)
        let db = try env.openDatabase("items")
        try env.write { txn in
            try key(5).withUnsafeBytes { k in
                try txn.reserve(db, k, count: 4) { buffer in buffer.copyBytes(from: [9, 8, 7, 6]) }
            }
        }
        #expect(try env.read { try $0.value(db, key(5)) } == [9, 8, 7, 6])
    }

    @Test func aFullMapIsAClearError() throws {
        let dir = TemporaryDirectory()
        var options = Environment.Options()
        options.mapSize = 1 << 20
        let env = try Environment(directory: dir.path, options: options)
        let db = try env.openDatabase("items")
        let value = [UInt8](repeating: 0xAB, count: 4000)
        let error = #expect(throws: LMDBError.self) {
            try env.write { txn in
                for i in 0..<1000 { try txn.put(db, key(i), value) }
            }
        }
        #expect(error?.code == .mapFull)
        #expect(error?.description.contains("map_size") == true)
        // The failed transaction was aborted; the environment still works.
        try env.write { txn in try txn.put(db, key(1), [1]) }
        #expect(try env.read { try $0.count(db) } == 1)
    }

    @Test func readersSeeASnapshotWhileAWriteIsOpen() throws {
        let dir = TemporaryDirectory()
        let env = try Environment(directory: dir.path)
        let db = try env.openDatabase("items")
        try env.write { txn in try txn.put(db, key(1), Array("old".utf8)) }

        let writeStarted = DispatchSemaphore(value: 0)
        let readsDone = DispatchSemaphore(value: 0)
        let writerFinished = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            try? env.write { txn in
                try txn.put(db, key(1), Array("new".utf8))
                writeStarted.signal()
                readsDone.wait()
            }
            writerFinished.signal()
        }
        writeStarted.wait()
        // Several readers on other threads are not blocked by the open write and see the old value.
        let seen = LockedArray()
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            let value = try? env.read { try $0.value(db, key(1)) }
            seen.append(value.flatMap { $0 }.map { String(decoding: $0, as: UTF8.self) } ?? "error")
        }
        readsDone.signal()
        writerFinished.wait()
        #expect(seen.values == ["old", "old", "old", "old"])
        #expect(try env.read { try $0.value(db, key(1)) } == Array("new".utf8))
    }
}

final class LockedArray: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [String] = []
    func append(_ s: String) { lock.withLock { storage.append(s) } }
    var values: [String] { lock.withLock { storage } }
}
