import CGranaryCrypto

/// OpenSSL message digests fetched once: OpenSSL 3 looks a digest up on every init unless it is
/// fetched explicitly, which costs more than hashing a small chunk.
private enum FetchedDigests {
    // Safe because EVP_MD objects are immutable after fetch and OpenSSL documents them as thread-safe.
    nonisolated(unsafe) static let md5 = fetch("MD5")
    nonisolated(unsafe) static let sha1 = fetch("SHA1")
    nonisolated(unsafe) static let sha256 = fetch("SHA256")
    nonisolated(unsafe) static let sha384 = fetch("SHA384")
    nonisolated(unsafe) static let sha512 = fetch("SHA512")

    static func fetch(_ name: String) -> OpaquePointer {
        // Safe because these five are built into every OpenSSL 3 default provider.
        EVP_MD_fetch(nil, name, nil)!
    }

    static func md(_ algorithm: DigestAlgorithm) -> OpaquePointer {
        switch algorithm {
        case .md5: md5
        case .sha1: sha1
        case .sha256: sha256
        case .sha384: sha384
        case .sha512: sha512
        }
    }
}

/// A running digest over bytes fed in pieces, over OpenSSL EVP.
///
/// Feeding reads straight from the caller's memory (a NIO buffer, a mapped chunk): no copies.
/// One owner at a time; ``reset()`` reuses the context for the next object (per-chunk SHA-256).
package final class StreamingDigest {
    package let algorithm: DigestAlgorithm
    private let context: OpaquePointer

    package init(_ algorithm: DigestAlgorithm) {
        self.algorithm = algorithm
        // Safe because EVP_MD_CTX_new only fails on allocation failure, which Swift treats as fatal anyway.
        self.context = EVP_MD_CTX_new()!
        reset()
    }

    deinit { EVP_MD_CTX_free(context) }

    /// Starts over, keeping the context's memory.
    package func reset() {
        let ok = EVP_DigestInit_ex2(context, FetchedDigests.md(algorithm), nil)
        precondition(ok == 1, "EVP_DigestInit_ex2(\(algorithm)) failed")
    }

    /// Feeds `bytes`.
    @inline(__always)
    package func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        let ok = EVP_DigestUpdate(context, base, bytes.count)
        precondition(ok == 1, "EVP_DigestUpdate(\(algorithm)) failed")
    }

    /// Feeds an array (convenience off the hot path).
    package func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// Writes the digest into `output` (at least ``DigestAlgorithm/byteCount`` bytes) and resets.
    package func finalize(into output: UnsafeMutableRawBufferPointer) {
        precondition(output.count >= algorithm.byteCount, "digest output buffer too small")
        var length: UInt32 = 0
        let ok = cgranary_digest_final(context, output.baseAddress, &length)
        precondition(ok == 1 && Int(length) == algorithm.byteCount, "EVP_DigestFinal_ex(\(algorithm)) failed")
        reset()
    }

    /// Returns the digest and resets.
    package func finalize() -> Digest {
        let bytes = [UInt8](unsafeUninitializedCapacity: algorithm.byteCount) { buffer, count in
            finalize(into: UnsafeMutableRawBufferPointer(buffer))
            count = algorithm.byteCount
        }
        return Digest(algorithm: algorithm, bytes: bytes)
    }

    /// One-shot digest of `bytes`.
    package static func hash(_ algorithm: DigestAlgorithm, _ bytes: UnsafeRawBufferPointer) -> Digest {
        let digest = StreamingDigest(algorithm)
        digest.update(bytes)
        return digest.finalize()
    }

    /// One-shot digest of an array.
    package static func hash(_ algorithm: DigestAlgorithm, _ bytes: [UInt8]) -> Digest {
        bytes.withUnsafeBytes { hash(algorithm, $0) }
    }
}

/// Several whole-object digests fed together, as an upload needs (e.g. md5 + sha512 for Glance).
package final class DigestSet {
    package let digests: [StreamingDigest]

    package init(_ algorithms: [DigestAlgorithm]) {
        digests = algorithms.map(StreamingDigest.init)
    }

    package func update(_ bytes: UnsafeRawBufferPointer) {
        for digest in digests { digest.update(bytes) }
    }

    /// The finished digests keyed by algorithm.
    package func finalize() -> [DigestAlgorithm: Digest] {
        Dictionary(uniqueKeysWithValues: digests.map { ($0.algorithm, $0.finalize()) })
    }
}
