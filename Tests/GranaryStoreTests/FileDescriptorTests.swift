import Foundation
import GranaryTesting
import Testing

@testable import GranaryStore

/// `O_DIRECT` reads of cold pack ranges (``ColdReadMode/direct``): the same bytes as the file
/// holds at any offset, on disk and on tmpfs (which kernels before 6.6 refuse `O_DIRECT` on, so
/// the plain read is used there), reads of 2 MiB or more (split in two reads at once) too, and a
/// clear error for a range past the end.
@Suite(.consistencyChecked) struct FileDescriptorTests {
    func withFile(in directory: String, _ body: (FileDescriptor, [UInt8]) throws -> Void) throws {
        let path = TemporaryDirectory("granary-fd", in: directory).path + "/pack"
        let bytes = randomBytes(3 * 4096 * 260, seed: 77)  // 3 MiB and more, block-aligned as packs are
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        try body(try FileDescriptor.open(path, writable: false), bytes)
    }

    func directRead(_ file: FileDescriptor, count: Int, at offset: Int) throws -> [UInt8] {
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: count + 2 * 4096, alignment: 4096)
        defer { scratch.deallocate() }
        var out = [UInt8](repeating: 0, count: count)
        try out.withUnsafeMutableBytes { try file.readDirect(into: $0, at: offset, scratch: scratch) }
        return out
    }

    @Test(arguments: [NSTemporaryDirectory(), "/dev/shm"])
    func directReadsGiveTheFilesBytes(directory: String) throws {
        guard FileManager.default.fileExists(atPath: directory) else { return }
        try withFile(in: directory) { file, bytes in
            let big = FileDescriptor.splitDirectReads
            let cases = [
                (0, 4096), (1, 10), (4095, 2), (5000, 70_000), (bytes.count - 300, 300), (0, bytes.count),
                (1, big + 5), (4096, big), (bytes.count - big - 1, big + 1), (777, bytes.count - 777),
            ]
            for (offset, count) in cases {
                let read = try directRead(file, count: count, at: offset)
                #expect(read == Array(bytes[offset..<(offset + count)]), "\(count) at \(offset)")
            }
        }
    }

    @Test func aDirectReadPastTheEndIsNamed() throws {
        try withFile(in: NSTemporaryDirectory()) { file, bytes in
            let error = #expect(throws: StoreError.self) { _ = try directRead(file, count: 100, at: bytes.count - 50) }
            #expect(error?.code == .corrupt)
            #expect(error?.message.contains("ends at \(bytes.count)") == true)
            // A split read whose second half runs past the end.
            let split = #expect(throws: StoreError.self) {
                _ = try directRead(file, count: FileDescriptor.splitDirectReads + 4096, at: bytes.count - FileDescriptor.splitDirectReads)
            }
            #expect(split?.code == .corrupt)
        }
    }
}
