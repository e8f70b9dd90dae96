import Foundation
import GranaryCatalog
import GranaryStore
package import Testing

/// Runs the test, then checks every store it left in its temporary directories (as bbolt checks
/// its database after every test), then removes them. A problem fails the test, naming it.
package struct ConsistencyChecked: TestTrait, SuiteTrait, TestScoping {
    package var isRecursive: Bool { true }

    package func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        guard testCase != nil || !test.isSuite else { return try await function() }
        let directories = TestDirectories()
        defer {
            for entry in directories.all { try? FileManager.default.removeItem(atPath: entry.path) }
        }
        try await TestDirectories.$current.withValue(directories) { try await function() }
        for entry in directories.all where entry.check {
            let problems = try await storeProblems(at: entry.path)
            if !problems.isEmpty {
                let list = problems.joined(separator: "\n")
                Issue.record("the store in \(entry.path) is inconsistent after the test:\n\(list)")
            }
        }
    }
}

extension Trait where Self == ConsistencyChecked {
    /// Checks the stores a test leaves behind and removes its temporary directories.
    package static var consistencyChecked: Self { ConsistencyChecked() }
}

/// What `granary fsck` reports for the data directory at `path`: the store's refcounts, pack
/// records and accounting, and every image's and artifact's blobs. Empty when sound; a
/// directory without a store has nothing to check.
package func storeProblems(at path: String) async throws -> [String] {
    guard FileManager.default.fileExists(atPath: path + "/index") else { return [] }
    let store = try BlobStore(directory: DataDirectory(path: path, access: .exclusiveIfFree))
    let catalogs = try await CatalogCheck.run(on: store)
    return try await store.verify().map(\.message) + catalogs.errors
}
