import AsyncHTTPClient
import GranaryFetch
import NIOCore
import NIOHTTP1

/// An answer of an object store, read whole (bodies are bounded by the caller: a range, a
/// listing page, an error text).
struct ObjectAnswer: Sendable {
    let status: Int
    let headers: HTTPHeaders
    let body: ByteBuffer

    var text: String { String(buffer: body) }
}

/// One object-store call through the process's outbound client, retried while it may be: every
/// call the stores make is idempotent (a GET, a HEAD, a DELETE, a PUT under a name never
/// reused), so a refused connection, a cut answer, a 5xx, a 408 or a 429 is tried again with
/// doubling backoff (0.2 s up to 3.2 s) until `timeout` has passed. The request is built anew
/// for each try (a signature carries its time; a token may have been renewed).
struct ObjectExchange: Sendable {
    /// Names the store in errors ("Swift at http://127.0.0.1:8080").
    let service: String
    /// How long a call may take, its retries included.
    var timeout: TimeAmount

    func perform(
        limit: Int, _ makeRequest: @Sendable () async throws(ObjectStoreError) -> HTTPClientRequest
    ) async throws(ObjectStoreError) -> ObjectAnswer {
        let deadline = NIODeadline.now() + timeout
        var delay = TimeAmount.milliseconds(200)
        var attempt = 0
        while true {
            attempt += 1
            let request = try await makeRequest()
            var failure: String
            do {
                let response = try await OutboundHTTP.send(request, deadline: deadline, service: service)
                let body = try await response.body.collect(upTo: limit)
                // checked: a UInt widened from three digits
                let status = Int(response.status.code)
                if !(status >= 500 || status == 408 || status == 429) { return ObjectAnswer(status: status, headers: response.headers, body: body) }
                failure = "\(service) answered \(status) \(String(buffer: body).prefix(200))"
            } catch let error as OutboundError {
                failure = error.description
            } catch {
                failure = "\(service) stopped answering: \(error)"
            }
            guard NIODeadline.now() + delay < deadline else {
                throw ObjectStoreError(.unavailable, "\(failure) (\(attempt) tries)")
            }
            try? await Task.sleep(nanoseconds: UInt64(delay.nanoseconds))  // checked: a positive constant
            delay = min(delay * 2, .milliseconds(3200))
        }
    }

    /// The error for an answer no call expects.
    func unexpected(_ answer: ObjectAnswer, _ what: String) -> ObjectStoreError {
        let kind: ObjectStoreError.Kind = answer.status == 404 ? .notFound : answer.status == 412 ? .exists : .refused
        return ObjectStoreError(kind, "\(service): \(what) answered \(answer.status) \(answer.text.prefix(200))")
    }
}
