import Foundation
import GranaryStore
import GranaryTesting
import Testing

@Suite(.consistencyChecked) struct DataDirectoryTests {
    func temporaryPath() -> String { TemporaryDirectory("granary-data").path }

    @Test func createsTheLayoutAndEmptiesTmp() throws {
        let path = temporaryPath()
        do {
            let dir = try DataDirectory(path: path, access: .exclusive)
            #expect(dir.isExclusive)
            #expect(FileManager.default.createFile(atPath: dir.tmpPath + "/leftover", contents: Data([1, 2, 3])))
        }
        for sub in ["index", "packs", "tmp"] {
            var isDir: ObjCBool = false
            #expect(FileManager.default.fileExists(atPath: path + "/" + sub, isDirectory: &isDir) && isDir.boolValue)
        }
        let reopened = try DataDirectory(path: path, access: .exclusive)
        #expect(try FileManager.default.contentsOfDirectory(atPath: reopened.tmpPath).isEmpty)
        let pid = try String(contentsOfFile: reopened.lockPath, encoding: .utf8)
        #expect(pid.trimmingCharacters(in: .whitespacesAndNewlines) == String(getpid()))
    }

    /// flock(2) locks belong to open file descriptions, so a second open in the same process
    /// contends like another process would.
    @Test func aSecondExclusiveOpenFailsWithTheHoldersPid() throws {
        let path = temporaryPath()
        let first = try DataDirectory(path: path, access: .exclusive)
        #expect(first.isExclusive)
        let error = #expect(throws: StoreError.self) { _ = try DataDirectory(path: path, access: .exclusive) }
        #expect(error?.code == .locked)
        #expect(error?.message.contains("process \(getpid())") == true)

        // A maintenance run may share the store but must not claim the lock.
        let shared = try DataDirectory(path: path, access: .exclusiveIfFree)
        #expect(!shared.isExclusive)
    }

    @Test func theLockIsReleasedWhenTheHolderGoes() throws {
        let path = temporaryPath()
        do { _ = try DataDirectory(path: path, access: .exclusive) }
        let again = try DataDirectory(path: path, access: .exclusive)
        #expect(again.isExclusive)
    }

    @Test func anUnwritableParentIsAClearIOError() throws {
        let error = #expect(throws: StoreError.self) {
            _ = try DataDirectory(path: "/proc/granary-cannot-exist/data", access: .exclusive)
        }
        #expect(error?.code == .io)
        #expect(error?.message.contains("mkdir") == true)
    }
}
