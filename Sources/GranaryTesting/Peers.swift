import Foundation

/// Real servers the tests talk to, started by the repository's own tools (`tools/swift-peer`,
/// `tools/keystone-peer`): the OpenStack Swift all-in-one (Swift and S3 APIs) and Keystone.
package enum Peers {
    /// The repository's root (this file is Sources/GranaryTesting/Peers.swift).
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Runs `tools/NAME arguments` and answers its standard output; a failure is an error with
    /// its standard error. The output goes through files, not pipes: the servers a tool leaves
    /// running inherit its descriptors, and a pipe would then never reach its end.
    @discardableResult
    static func tool(_ name: String, _ arguments: [String]) throws -> String {
        let base = NSTemporaryDirectory() + "granary-tool-" + UUID().uuidString
        for file in [base + ".out", base + ".err"] { _ = FileManager.default.createFile(atPath: file, contents: nil) }
        defer {
            try? FileManager.default.removeItem(atPath: base + ".out")
            try? FileManager.default.removeItem(atPath: base + ".err")
        }
        let process = Process()
        process.executableURL = root.appendingPathComponent("tools").appendingPathComponent(name)
        process.arguments = arguments
        process.standardOutput = FileHandle(forWritingAtPath: base + ".out")
        process.standardError = FileHandle(forWritingAtPath: base + ".err")
        try process.run()
        process.waitUntilExit()
        let text = (try? String(contentsOfFile: base + ".out", encoding: .utf8)) ?? ""
        guard process.terminationStatus == 0 else {
            let problems = (try? String(contentsOfFile: base + ".err", encoding: .utf8)) ?? ""
            throw PeerError("tools/\(name) \(arguments.joined(separator: " ")) failed: \(problems)")
        }
        return text
    }

    /// The Swift all-in-one's settings (`SWIFT_PEER_*`), started if it is not running (it
    /// keeps running for the next test process; `tools/swift-peer stop` stops it).
    package static func swift() throws -> [String: String] { try swiftStarted.get() }

    /// Started once per process (a static is initialized once, whichever test asks first).
    static let swiftStarted = Result { () throws -> [String: String] in
        try tool("swift-peer", ["start"])
        return settings(try tool("swift-peer", ["env"]))
    }

    static func settings(_ text: String) -> [String: String] {
        var values: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count == 2, let key = parts.first, let value = parts.last { values[key] = value }
        }
        return values
    }

    /// A Keystone of its own (admin / secret, project admin) on a free port for `body`, with the
    /// Swift all-in-one's Keystone proxy in front of the object servers and in its catalog;
    /// stopped afterwards.
    package static func withKeystone<R>(_ body: (_ keystoneURL: String, _ swift: [String: String]) async throws -> R) async throws -> R {
        _ = try swift()  // the storage servers first, once (the Keystone proxy joins them)
        let directory = TemporaryDirectory("keystone", check: false)
        let port = try TestPorts.free()
        let pid = try tool("keystone-peer", ["start", directory.path, String(port)]).trimmingCharacters(in: .whitespacesAndNewlines)
        defer {
            // Keystone's server ignores SIGTERM.
            if let pid = Int32(pid) { kill(pid, SIGKILL) }  // checked: a pid the tool printed
        }
        let url = "http://127.0.0.1:\(port)/v3"
        try tool("swift-peer", ["keystone", url])
        return try await body(url, settings(try tool("swift-peer", ["env"])))
    }
}

package struct PeerError: Error, CustomStringConvertible {
    package let description: String
    init(_ description: String) { self.description = description }
}

/// Free loopback ports.
package enum TestPorts {
    package static func free() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)  // checked: a small constant
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var bound = address
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &bound) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard ok else { throw PeerError("no free port") }
        return Int(UInt16(bigEndian: bound.sin_port))
    }
}
