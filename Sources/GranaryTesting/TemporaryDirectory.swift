import Foundation
import Synchronization
import Testing

/// A fresh directory under the system temporary folder for one test. The `.consistencyChecked`
/// trait removes it when the test ends, after checking the store it holds (unless `check` is
/// false: a directory for LMDB alone, or a store a test damages on purpose).
package struct TemporaryDirectory: Sendable {
    package let path: String

    package init(_ prefix: String = "granary-test", in parent: String = NSTemporaryDirectory(), check: Bool = true) {
        path = (parent.hasSuffix("/") ? parent : parent + "/") + prefix + "-" + UUID().uuidString
        // A directory that cannot be made fails the test where it is first used, with the path.
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        TestDirectories.register(path, check: check)
    }

    /// A directory at `path` (a store reopened, a filesystem mounted by the test), checked and
    /// removed with the test's others.
    package init(existing path: String, check: Bool = true) {
        self.path = path
        TestDirectories.register(path, check: check)
    }
}

/// The directories the running test made; a task-local, so parallel tests keep their own.
final class TestDirectories: Sendable {
    @TaskLocal static var current: TestDirectories?

    struct Entry {
        let path: String
        var check: Bool
    }
    private let entries = Mutex<[Entry]>([])
    var all: [Entry] { entries.withLock { $0 } }

    static func register(_ path: String, check: Bool) {
        guard let current else {
            Issue.record("\(path) was made outside a .consistencyChecked test: nothing checks or removes it")
            return
        }
        current.entries.withLock { entries in
            if let index = entries.firstIndex(where: { $0.path == path }) {
                entries[index].check = entries[index].check && check
            } else {
                entries.append(Entry(path: path, check: check))
            }
        }
    }
}
