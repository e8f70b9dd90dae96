/// An error from a codec: a digest library or zstd call failed, or input was malformed.
public struct CodecError: Error, Sendable, CustomStringConvertible, Equatable {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable { case unknownAlgorithm, digestFailed, compressionFailed, corruptInput, outputTooSmall }
        private let base: Base
        /// A digest name that is not md5, sha1, sha256, sha384 or sha512.
        public static let unknownAlgorithm = Code(base: .unknownAlgorithm)
        /// OpenSSL refused a digest operation.
        public static let digestFailed = Code(base: .digestFailed)
        /// zstd could not compress.
        public static let compressionFailed = Code(base: .compressionFailed)
        /// Compressed input does not decode.
        public static let corruptInput = Code(base: .corruptInput)
        /// The destination buffer cannot hold the result.
        public static let outputTooSmall = Code(base: .outputTooSmall)
        public var description: String { "\(base)" }
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
