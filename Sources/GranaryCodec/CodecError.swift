/// An error from a codec: a digest library or zstd call failed, or input was malformed.
package struct CodecError: Error, Sendable, CustomStringConvertible, Equatable {
    package struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable { case unknownAlgorithm, digestFailed, compressionFailed, corruptInput, outputTooSmall }
        private let base: Base
        /// A digest name that is not md5, sha1, sha256, sha384 or sha512.
        package static let unknownAlgorithm = Code(base: .unknownAlgorithm)
        /// OpenSSL refused a digest operation.
        package static let digestFailed = Code(base: .digestFailed)
        /// zstd could not compress.
        package static let compressionFailed = Code(base: .compressionFailed)
        /// Compressed input does not decode.
        package static let corruptInput = Code(base: .corruptInput)
        /// The destination buffer cannot hold the result.
        package static let outputTooSmall = Code(base: .outputTooSmall)
        package var description: String { "\(base)" }
    }

    package let code: Code
    package let message: String

    package init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    package var description: String { message }
}
