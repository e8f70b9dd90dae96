#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An error from the storage engine, with what an operator needs to fix it.
package struct StoreError: Error, Sendable, CustomStringConvertible {
    package struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable { case locked, io, noSpace, notFound, corrupt, invalidArgument, conflict, unavailable }
        private let base: Base
        /// Another process holds the data directory's exclusive lock.
        package static let locked = Code(base: .locked)
        /// A file-system call failed.
        package static let io = Code(base: .io)
        /// The file system is full, or the user's disk quota is spent (`ENOSPC`, `EDQUOT`): the
        /// API answers 413 (Glance's "storage media is full"), not a server error.
        package static let noSpace = Code(base: .noSpace)
        /// What was asked for does not exist.
        package static let notFound = Code(base: .notFound)
        /// Stored bytes fail their checksum or do not parse.
        package static let corrupt = Code(base: .corrupt)
        /// The caller passed something unusable.
        package static let invalidArgument = Code(base: .invalidArgument)
        /// Concurrent work changed what this operation depended on; it changed nothing.
        package static let conflict = Code(base: .conflict)
        /// An object store holding the packs cannot be reached or refuses (after retries): the
        /// APIs answer 503, and the upload can be tried again.
        package static let unavailable = Code(base: .unavailable)
        package var description: String { "\(base)" }
    }

    package let code: Code
    package let message: String
    package let cause: (any Error & Sendable)?

    package init(_ code: Code, _ message: String, cause: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    package var description: String {
        guard let cause else { return message }
        return "\(message): \(cause)"
    }

    /// An error for a failed system call, naming the call, the path and `errno`'s text.
    static func system(_ call: String, path: String, errno code: Int32) -> StoreError {
        StoreError(
            code == ENOSPC || code == EDQUOT ? .noSpace : .io, "\(call)(\(path)) failed: \(String(cString: strerror(code))) (errno \(code))")
    }
}
