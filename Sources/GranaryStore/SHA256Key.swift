import GranaryCodec

/// A 32-byte SHA-256 value held inline (no heap allocation): chunk ids and blob ids.
package struct SHA256Key: Hashable, Sendable, CustomStringConvertible, Comparable {
    private var a: UInt64 = 0
    private var b: UInt64 = 0
    private var c: UInt64 = 0
    private var d: UInt64 = 0

    /// All zeros: the id of an all-zero chunk, which is never stored.
    package static let zero = SHA256Key()

    private init() {}

    /// Copies 32 bytes.
    package init(_ bytes: UnsafeRawBufferPointer) {
        precondition(bytes.count == 32, "a SHA-256 key is 32 bytes")
        withUnsafeMutableBytes(of: &self) { $0.copyMemory(from: bytes) }
    }

    package init?(_ bytes: [UInt8]) {
        guard bytes.count == 32 else { return nil }
        self.init(bytes.withUnsafeBytes { $0 })
    }

    /// Parses 64 hex digits.
    package init?(hex: String) {
        guard let bytes = Hex.decode(hex), bytes.count == 32 else { return nil }
        self.init(bytes)
    }

    /// Computes SHA-256 of `segments` taken together, reusing `digest`.
    init(hashing segments: [UnsafeRawBufferPointer], with digest: StreamingDigest) {
        for segment in segments { digest.update(segment) }
        self.init()
        withUnsafeMutableBytes(of: &self) { digest.finalize(into: $0) }
    }

    package func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withUnsafeBytes(of: self) { try body($0) }
    }

    package var bytes: [UInt8] { withBytes { Array($0) } }
    package var hex: String { withBytes { Hex.encode($0) } }
    package var description: String { hex }

    package static func < (lhs: SHA256Key, rhs: SHA256Key) -> Bool {
        lhs.withBytes { l in rhs.withBytes { r in l.lexicographicallyPrecedes(r) } }
    }
}
