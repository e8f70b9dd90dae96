package import GranaryServer
import GranaryStore
package import HTTPTypes
import HummingbirdTesting
import Logging
package import NIOCore
import ServiceLifecycle

/// The application `granary serve` runs, on free loopback ports and a temporary data
/// directory, with a client for each listener.
package struct TestServer: Sendable {
    package let granary: GranaryApplication
    /// The Glance images listener.
    package let images: LoopbackClient
    /// The Glare artifacts listener.
    package let artifacts: LoopbackClient
}

/// Runs `body` against a fresh Granary (GC schedule off; `configure` changes anything else),
/// then shuts it down gracefully. Its store is checked when the test ends.
package func withTestServer<Value: Sendable>(
    configure: (inout Settings) -> Void = { _ in }, _ body: @Sendable (TestServer) async throws -> Value
) async throws -> Value {
    let directory = TemporaryDirectory("granary-server")
    var settings = Settings()
    settings.dataDirectory = directory.path
    settings.port = 0
    settings.artifactsPort = 0
    settings.gc.interval = 0
    settings.store.durableIndex = false
    configure(&settings)
    var logger = Logger(label: "granary-test")
    logger.logLevel = .warning
    let (bound, listening) = AsyncStream.makeStream(of: (Listener, Int).self)
    let granary = try await buildApplication(settings: settings, logger: logger) { listening.yield(($0, $1)) }
    let services = ServiceGroup(configuration: .init(services: [granary.application], logger: logger))
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask {
            defer { listening.finish() }
            try await services.run()
        }
        var ports: [Listener: Int] = [:]
        for await (listener, port) in bound {
            ports[listener] = port
            if ports.count == 2 { break }
        }
        guard let imagesPort = ports[.images], let artifactsPort = ports[.artifacts] else {
            try await group.waitForAll()  // the server stopped before listening: its error
            throw CancellationError()
        }
        let server = TestServer(granary: granary, images: LoopbackClient(port: imagesPort), artifacts: LoopbackClient(port: artifactsPort))
        let result: Result<Value, any Error>
        do { result = .success(try await body(server)) } catch { result = .failure(error) }
        await server.images.shutdown()
        await server.artifacts.shutdown()
        await services.triggerGracefulShutdown()
        try await group.waitForAll()
        return try result.get()
    }
}

/// A keep-alive HTTP/1.1 client on one loopback listener (HummingbirdTesting's client).
package struct LoopbackClient: Sendable {
    let client: TestClient
    package let port: Int

    /// A response, its body read whole.
    package struct Response: Sendable {
        package let head: HTTPResponse
        package let body: ByteBuffer
        package var status: HTTPResponse.Status { head.status }
        package var headers: HTTPFields { head.headerFields }
    }

    init(port: Int) {
        self.port = port
        client = TestClient(host: "127.0.0.1", port: port)
        client.connect()
    }

    /// Sends one request and hands its response to `check`.
    @discardableResult package func execute<Value>(
        uri: String, method: HTTPRequest.Method, headers: HTTPFields = [:], body: ByteBuffer? = nil,
        _ check: (Response) async throws -> Value = { $0 }
    ) async throws -> Value {
        var headers = headers
        headers[.connection] = "keep-alive"
        let response = try await client.execute(TestClient.Request(uri, method: method, authority: "localhost", headers: headers, body: body))
        return try await check(Response(head: response.head, body: response.body ?? ByteBuffer()))
    }

    func shutdown() async { try? await client.shutdown() }
}
