import AsyncHTTPClient
package import Foundation
package import NIOCore

#if canImport(Glibc)
    import Glibc
#endif

/// An object store that holds sealed packs: whole objects under names that are never reused,
/// written once, read by ranges, deleted when GC retires them. OpenStack Swift and S3 implement
/// it; liveness is never decided from ``list(prefix:)`` (listings may lag behind writes).
package protocol ObjectStore: Sendable {
    /// Stores `body` as `name`, once: a name already taken is ``ObjectStoreError/Kind/exists``
    /// (`If-None-Match: *`), and the digest the server computed must be `md5` (else
    /// ``ObjectStoreError/Kind/corrupt`` and the object is removed).
    func put(_ name: String, body: ObjectBody, md5: [UInt8]) async throws(ObjectStoreError)
    /// The bytes of `range` of `name` (the whole object when nil).
    func get(_ name: String, range: Range<Int>?) async throws(ObjectStoreError) -> ByteBuffer
    /// The size of `name`, or nil when there is no such object.
    func size(of name: String) async throws(ObjectStoreError) -> Int?
    /// Removes `name`; an object already gone counts as removed.
    func delete(_ name: String) async throws(ObjectStoreError)
    /// Every object whose name starts with `prefix`, in name order.
    func list(prefix: String) async throws(ObjectStoreError) -> [ObjectInfo]
}

extension ObjectStore {
    /// Reads bytes `range` of `name` into `buffer` (exactly `range.count` bytes long).
    package func get(_ name: String, range: Range<Int>, into buffer: UnsafeMutableRawBufferPointer) async throws(ObjectStoreError) {
        let data = try await get(name, range: range)
        guard data.readableBytes == buffer.count else {
            throw ObjectStoreError(.corrupt, "\(name): \(data.readableBytes) bytes came for \(buffer.count) asked")
        }
        data.withUnsafeReadableBytes { buffer.copyMemory(from: $0) }
    }

    /// Writes bytes `range` of `name` into the open file `fd` (at `path`) at the same offsets:
    /// a cache file, a scrub's copy.
    package func copy(_ name: String, range: Range<Int>, into fd: Int32, path: String) async throws(ObjectStoreError) {
        let data = try await get(name, range: range)
        try data.withUnsafeReadableBytes { buffer throws(ObjectStoreError) in
            guard let base = buffer.baseAddress else { return }
            var written = 0
            while written < buffer.count {
                let n = pwrite(fd, base + written, buffer.count - written, off_t(range.lowerBound + written))  // checked: offsets within the object
                guard n > 0 else { throw ObjectStoreError(.unavailable, "cannot write \(path): errno \(errno)") }
                written += n
            }
        }
    }
}

/// What a PUT sends: bytes in memory, or a file streamed from disk (a sealed pack), read anew
/// for each try.
package enum ObjectBody: Sendable {
    case bytes(ByteBuffer)
    case file(path: String, size: Int)

    var request: HTTPClientRequest.Body {
        switch self {
        case .bytes(let buffer): .bytes(buffer)
        case .file(let path, let size): .stream(FileChunks(path: path, size: size), length: .known(Int64(size)))
        }
    }
}

/// A file's bytes as 1 MiB buffers, read with `pread`; a file that cannot be read ends the
/// sequence with an error (the PUT then fails and is retried or reported).
struct FileChunks: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let path: String
    let size: Int

    struct AsyncIterator: AsyncIteratorProtocol {
        let path: String
        let size: Int
        var fd: Int32 = -1
        var offset = 0

        mutating func next() async throws -> ByteBuffer? {
            guard offset < size else {
                if fd >= 0 { close(fd) }
                fd = -1
                return nil
            }
            if fd < 0 {
                fd = open(path, O_RDONLY)
                guard fd >= 0 else { throw ObjectStoreError(.unavailable, "cannot read \(path): errno \(errno)") }
            }
            let length = Swift.min(1 << 20, size - offset)
            var buffer = ByteBufferAllocator().buffer(capacity: length)
            let (fd, offset, path) = (fd, offset, path)
            let read = try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { raw in
                let n = pread(fd, raw.baseAddress, length, off_t(offset))  // checked: offsets within the file
                guard n > 0 else { throw ObjectStoreError(.unavailable, "cannot read \(path) at \(offset): errno \(errno)") }
                return n
            }
            self.offset += read
            return buffer
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(path: path, size: size) }
}

/// One object of a listing.
package struct ObjectInfo: Sendable, Equatable {
    package var name: String
    package var size: Int
    package var lastModified: Date?
}

/// Why an object store call failed, in words an operator can act on.
package struct ObjectStoreError: Error, Sendable, CustomStringConvertible {
    package enum Kind: Sendable, Equatable {
        /// The store cannot be reached or answers 5xx (after retries): the API answers 503.
        case unavailable
        /// The store refused the credentials or the request (4xx other than those below).
        case refused
        /// No such object.
        case notFound
        /// The name is taken (a conditional PUT found an object there).
        case exists
        /// The bytes the store holds are not the bytes sent.
        case corrupt
    }
    package let kind: Kind
    package let description: String

    package init(_ kind: Kind, _ description: String) {
        self.kind = kind
        self.description = description
    }
}

/// Where a store keeps its packs, from `stores.ID.url`: `file:///DIR`, `swift://CONTAINER` or
/// `s3+http(s)://HOST:PORT/BUCKET`.
package enum ObjectStoreLocation: Sendable, Equatable {
    case directory(String)
    case swift(container: String)
    case s3(endpoint: String, bucket: String)

    package init(_ url: String) throws(ObjectStoreError) {
        func bad(_ why: String) -> ObjectStoreError {
            ObjectStoreError(.refused, "store url \(url): \(why) (file:///DIR, swift://CONTAINER or s3+http(s)://HOST:PORT/BUCKET)")
        }
        if url.hasPrefix("file://") {
            let path = String(url.dropFirst("file://".count))
            guard path.hasPrefix("/") else { throw bad("a file url names an absolute directory") }
            self = .directory(path)
        } else if url.hasPrefix("swift://") {
            let container = String(url.dropFirst("swift://".count))
            guard Self.isName(container) else { throw bad("a container name is 1 to 200 letters, digits, '-', '_' or '.'") }
            self = .swift(container: container)
        } else if url.hasPrefix("s3+http://") || url.hasPrefix("s3+https://") {
            guard let parts = URLComponents(string: String(url.dropFirst("s3+".count))), let host = parts.host, !host.isEmpty,
                let scheme = parts.scheme
            else { throw bad("no host") }
            let bucket = parts.path.split(separator: "/").map(String.init)
            guard bucket.count == 1, let name = bucket.first, Self.isName(name) else { throw bad("the path is one bucket name") }
            let port = parts.port.map { ":\($0)" } ?? ""
            self = .s3(endpoint: "\(scheme)://\(host)\(port)", bucket: name)
        } else {
            throw bad("unknown scheme")
        }
    }

    static func isName(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= 200
            && text.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) && $0.isASCII || "-_.".unicodeScalars.contains($0) }
    }
}
