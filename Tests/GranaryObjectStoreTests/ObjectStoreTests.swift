import Crypto
import Foundation
import GranaryTesting
import NIOCore
import Testing

@testable import GranaryObjectStore

/// The Swift and S3 clients against the real OpenStack Swift all-in-one (tools/swift-peer):
/// tempauth, Keystone and the S3 API, each doing what pack storage needs of it.
@Suite(.serialized, .consistencyChecked) struct ObjectStoreTests {
    static func bytes(_ count: Int, seed: UInt64) -> ByteBuffer { ByteBuffer(bytes: randomBytes(count, seed: seed)) }

    static func md5(_ buffer: ByteBuffer) -> [UInt8] { Array(Insecure.MD5.hash(data: Data(buffer.readableBytesView))) }

    /// Names unique to this run: the peer's data outlives test processes.
    static func name(_ what: String) -> String { "packs/\(what)-\(UUID().uuidString.lowercased())" }

    static func tempauth(_ swift: [String: String]) throws -> SwiftObjectStore {
        SwiftObjectStore(
            container: "granary-test",
            credentials: .init(authURL: try #require(swift["SWIFT_PEER_AUTH_URL"]), user: "test:tester", key: "testing"))
    }

    static func s3(_ swift: [String: String]) throws -> S3ObjectStore {
        try S3ObjectStore(
            endpoint: try #require(swift["SWIFT_PEER_S3_URL"]), bucket: "granary-test", accessKey: "test:tester", secretKey: "testing",
            region: "us-east-1")
    }

    /// Everything a pack store does, against one store.
    static func exercise(_ store: any ObjectStore) async throws {
        let body = bytes(3 << 20, seed: 7)
        let name = name("pack")
        try await store.put(name, body: .bytes(body), md5: md5(body))
        #expect(try await store.size(of: name) == 3 << 20)
        #expect(try await store.get(name, range: nil) == body)
        #expect(try await store.get(name, range: 1000..<5096) == body.getSlice(at: 1000, length: 4096))
        // Written once: the name is never reused for other bytes.
        let other = bytes(100, seed: 8)
        await #expect(throws: ObjectStoreError.self) { try await store.put(name, body: .bytes(other), md5: md5(other)) }
        do { try await store.put(name, body: .bytes(other), md5: md5(other)) } catch { #expect(error.kind == .exists) }
        // The same bytes again (a retried PUT whose first answer was lost) are the same object;
        // a sealed pack is sent from its file, streamed in 1 MiB buffers.
        let file = TemporaryDirectory("object-body", check: false).path + "/pack"
        #expect(FileManager.default.createFile(atPath: file, contents: Data(body.readableBytesView)))
        try await store.put(name, body: .file(path: file, size: body.readableBytes), md5: md5(body))
        let fromFile = name + "-file"
        try await store.put(fromFile, body: .file(path: file, size: body.readableBytes), md5: md5(body))
        #expect(try await store.get(fromFile, range: nil) == body)
        try await store.delete(fromFile)
        // A digest that is not the body's: refused, nothing kept.
        let damaged = name + "-damaged"
        do {
            try await store.put(damaged, body: .bytes(other), md5: md5(body))
            Issue.record("a PUT with the wrong md5 was accepted")
        } catch { #expect(error.kind == .corrupt) }
        #expect(try await store.size(of: damaged) == nil)
        let listed = try await store.list(prefix: name)
        #expect(listed.map(\.name) == [name] && listed.first?.size == 3 << 20)
        #expect(listed.first?.lastModified.map { abs($0.timeIntervalSinceNow) < 600 } == true)
        try await store.delete(name)
        #expect(try await store.size(of: name) == nil)
        try await store.delete(name)  // gone already: done
        do {
            _ = try await store.get(name, range: nil)
            Issue.record("a deleted object was read")
        } catch { #expect(error.kind == .notFound) }
    }

    @Test func swiftWithTempauthStoresPacks() async throws {
        let swift = try Peers.swift()
        let store = try Self.tempauth(swift)
        try await Self.exercise(store)
        // Packs spread over 16 containers by name.
        let containers = Set((0..<64).map { store.container(of: "packs/\($0)") })
        #expect(containers.count == 16 && containers.allSatisfy { $0.hasPrefix("granary-test_") })
    }

    @Test func swiftWithKeystoneStoresPacks() async throws {
        try await Peers.withKeystone { keystone, _ in
            let store = SwiftObjectStore(container: "granary-keystone", credentials: .init(authURL: keystone, user: "admin:admin", key: "secret"))
            try await Self.exercise(store)
            let wrong = SwiftObjectStore(container: "granary-keystone", credentials: .init(authURL: keystone, user: "admin:admin", key: "wrong"))
            do {
                _ = try await wrong.size(of: "x")
                Issue.record("a wrong password was accepted")
            } catch let error as ObjectStoreError { #expect(error.kind == .refused) }
        }
    }

    @Test func s3StoresPacks() async throws {
        try await Self.exercise(try Self.s3(try Peers.swift()))
    }

    @Test func wrongCredentialsAreRefusedNotRetried() async throws {
        let swift = try Peers.swift()
        let store = SwiftObjectStore(
            container: "granary-test", credentials: .init(authURL: try #require(swift["SWIFT_PEER_AUTH_URL"]), user: "test:tester", key: "nope"))
        do {
            _ = try await store.size(of: "x")
            Issue.record("a wrong key was accepted")
        } catch { #expect(error.kind == .refused) }
        let s3 = try S3ObjectStore(
            endpoint: try #require(swift["SWIFT_PEER_S3_URL"]), bucket: "granary-test", accessKey: "test:tester", secretKey: "nope",
            region: "us-east-1")
        do {
            _ = try await s3.size(of: "x")
            Issue.record("a wrong secret was accepted")
        } catch { #expect(error.kind == .refused) }
    }

    @Test func anUnreachableStoreIsUnavailableOnceItsDeadlinePasses() async throws {
        let store = try S3ObjectStore(
            endpoint: "http://127.0.0.1:\(try TestPorts.free())", bucket: "b", accessKey: "a", secretKey: "s", region: "us-east-1",
            timeout: .seconds(2))
        let started = Date()
        do {
            _ = try await store.size(of: "x")
            Issue.record("a closed port answered")
        } catch { #expect(error.kind == .unavailable && error.description.contains("tries")) }
        #expect(Date().timeIntervalSince(started) < 10)
    }

    /// AWS's own worked example (S3 API reference, "Signature Calculations for the Authorization
    /// Header": GET Object with a Range).
    @Test func sigV4SignsAsAWSDocuments() throws {
        let signer = SigV4(accessKey: "AKIAIOSFODNN7EXAMPLE", secretKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", region: "us-east-1")
        let headers = signer.sign(
            method: "GET", host: "examplebucket.s3.amazonaws.com", path: "/test.txt", query: [], headers: [("Range", "bytes=0-9")],
            payloadHash: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", date: Date(timeIntervalSince1970: 1_369_353_600))
        let authorization = try #require(headers.first { $0.0 == "Authorization" }?.1)
        #expect(
            authorization
                == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        )
    }

    @Test func storeURLsParse() throws {
        #expect(try ObjectStoreLocation("file:///srv/granary") == .directory("/srv/granary"))
        #expect(try ObjectStoreLocation("swift://images") == .swift(container: "images"))
        #expect(try ObjectStoreLocation("s3+http://127.0.0.1:8080/packs") == .s3(endpoint: "http://127.0.0.1:8080", bucket: "packs"))
        #expect(try ObjectStoreLocation("s3+https://s3.example.com/packs") == .s3(endpoint: "https://s3.example.com", bucket: "packs"))
        for bad in ["ftp://x", "file://relative", "swift://", "swift://a/b", "s3+http://host", "s3+http://host/a/b", "s3+http:///b"] {
            #expect(throws: ObjectStoreError.self, "\(bad)") { try ObjectStoreLocation(bad) }
        }
    }
}

/// The node's pack cache over the real Swift all-in-one.
@Suite(.serialized, .consistencyChecked) struct PackCacheTests {
    static let extent = 1 << 20

    /// A 10.5 MiB pack in Swift, and a cache of 1 MiB extents that holds at most `maxBytes`.
    static func fixture(maxBytes: Int) async throws -> (cache: PackCache, name: String, body: ByteBuffer, store: SwiftObjectStore) {
        let store = try ObjectStoreTests.tempauth(try Peers.swift())
        let body = ObjectStoreTests.bytes(10 * extent + extent / 2, seed: 11)
        let name = ObjectStoreTests.name("cached")
        try await store.put(name, body: .bytes(body), md5: ObjectStoreTests.md5(body))
        let directory = TemporaryDirectory("pack-cache", check: false)
        return (try PackCache(directory: directory.path + "/cache", store: store, maxBytes: maxBytes, extent: extent, parallel: 2), name, body, store)
    }

    static func read(_ path: String, _ range: Range<Int>) throws -> [UInt8] {
        let handle = try #require(FileHandle(forReadingAtPath: path))
        defer { try? handle.close() }
        try handle.seek(toOffset: UInt64(range.lowerBound))
        return Array(try #require(try handle.read(upToCount: range.count)))
    }

    @Test func readsFetchOnlyMissingExtentsInRunsAndShareThem() async throws {
        let (cache, name, body, store) = try await Self.fixture(maxBytes: 64 << 20)
        let size = body.readableBytes
        // Bytes inside extents 2…4: one run, one GET.
        let range = 2 * Self.extent + 100..<4 * Self.extent + 200
        let path = try await cache.file(for: name, range: range, size: size)
        #expect(try Self.read(path, range) == Array(body.readableBytesView[range]))
        #expect(await cache.fetches == 1)
        await cache.release(name)
        // The same bytes again: no GET. A wider range: only the missing extents (0–1, 5–8, 9–10).
        _ = try await cache.file(for: name, range: range, size: size)
        #expect(await cache.fetches == 1)
        let whole = try await cache.file(for: name, range: 0..<size, size: size)
        #expect(try Self.read(whole, 0..<size) == Array(body.readableBytesView))
        #expect(await cache.fetches == 1 + 1 + 2)  // 0–1, then 5–8 and 9–10 (runs of at most 4)
        #expect(await cache.isComplete(name))
        #expect(await cache.totalBytes == size)
        await cache.release(name)
        await cache.release(name)
        // Concurrent readers of the same cold extents fetch them once.
        let (other, otherName, _, _) = try await Self.fixture(maxBytes: 64 << 20)
        async let a = other.file(for: otherName, range: 0..<Self.extent, size: size)
        async let b = other.file(for: otherName, range: 100..<Self.extent - 1, size: size)
        _ = try await (a, b)
        #expect(await other.fetches == 1)
        for object in [name, otherName] { try await store.delete(object) }
    }

    @Test func evictionKeepsTheCacheWithinItsBytesLeastRecentlyUsedFirst() async throws {
        let (cache, name, body, store) = try await Self.fixture(maxBytes: 3 << 20)
        let size = body.readableBytes
        // A pinned pack stays even over the limit; released, it goes.
        _ = try await cache.file(for: name, range: 0..<4 * Self.extent, size: size)
        #expect(await cache.totalBytes == 4 * Self.extent)
        await cache.release(name)
        #expect(await cache.totalBytes == 0)
        // Adopted packs (this node's own) are whole and evicted like any other.
        let directory = TemporaryDirectory("pack-cache-own", check: false)
        let own = directory.path + "/own.pack"
        #expect(FileManager.default.createFile(atPath: own, contents: Data(repeating: 7, count: 2 << 20)))
        try await cache.adopt("packs/own", file: own, size: 2 << 20)
        #expect(await cache.isComplete("packs/own"))
        #expect(await cache.fetches == 1)
        _ = try await cache.file(for: name, range: 0..<Self.extent, size: size)
        await cache.release(name)
        // 2 MiB own + 1 MiB: within 3 MiB. One more MiB: the least recently used (own) goes.
        #expect(await cache.totalBytes == 3 << 20)
        _ = try await cache.file(for: name, range: 5 * Self.extent..<5 * Self.extent + 1, size: size)
        await cache.release(name)
        #expect(await cache.totalBytes == 2 << 20)
        #expect(await !cache.isComplete("packs/own"))
        await #expect(throws: ObjectStoreError.self) { try await cache.file(for: name, range: 0..<size + 1, size: size) }
        try await store.delete(name)
    }
}
