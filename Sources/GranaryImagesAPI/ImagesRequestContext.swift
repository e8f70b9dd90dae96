import Foundation
public import GranaryCatalog
import HTTPTypes
public import Hummingbird
public import NIOCore

/// The request context of the images API: the core context plus who is calling.
public struct ImagesRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by ``AuthMiddleware``; noauth's admin until then.
    public var caller: Caller = .noauthAdmin
    /// The connection, for zero-copy downloads (``BlobResponse``).
    public let channel: any Channel

    public init(source: Source) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}

/// How callers are identified.
public enum AuthMode: Sendable {
    /// Every caller is an admin with no project (Glance's default paste flavor).
    case noauth
    /// Trust `X-Identity-Status`, `X-Roles`, `X-Project-Id`, `X-User-Id` from a keystonemiddleware
    /// proxy in front (Glance's "trusted auth").
    case headers
    /// Validate `X-Auth-Token` against Keystone (Glance's `keystone` flavor).
    case keystone(KeystoneValidator)
}

/// Establishes the caller from the request, per ``AuthMode`` (reference §9).
public struct AuthMiddleware: RouterMiddleware {
    public typealias Context = ImagesRequestContext
    let mode: AuthMode

    public init(mode: AuthMode) { self.mode = mode }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        switch mode {
        case .noauth:
            context.caller = .noauthAdmin
        case .headers:
            guard request.headers[HTTPField.Name("X-Identity-Status")!] == "Confirmed" else {
                return Self.unauthorized()
            }
            // python-glanceclient percent-encodes identity header values ("reader%2Cmember").
            func header(_ name: String) -> String? {
                request.headers[HTTPField.Name(name)!].map { $0.removingPercentEncoding ?? $0 }
            }
            let roles = (header("X-Roles") ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            let project = header("X-Project-Id") ?? header("X-Tenant-Id")
            context.caller = Caller(projectID: project, userID: header("X-User-Id"), roles: Set(roles.filter { !$0.isEmpty }))
        case .keystone(let keystone):
            guard let token = request.headers[HTTPField.Name("X-Auth-Token")!], !token.isEmpty else {
                return Self.unauthorized(keystone.url)
            }
            let caller: Caller?
            do {
                caller = try await keystone.caller(for: token)
            } catch {
                throw GlanceError(.serviceUnavailable, "The identity service could not validate the token: \(error)")
            }
            guard let caller else { return Self.unauthorized(keystone.url) }
            context.caller = caller
        }
        return try await next(request, context)
    }

    /// keystonemiddleware's 401 (reference §2), naming the identity service to ask for a token.
    static func unauthorized(_ keystoneURL: String = "") -> Response {
        let body = #"{"error": {"code": 401, "title": "Unauthorized", "message": "The request you have made requires authentication."}}"#
        return Response(
            status: .unauthorized,
            headers: [.contentType: "application/json", .wwwAuthenticate: "Keystone uri=\"\(keystoneURL)\""],
            body: .init(byteBuffer: ByteBuffer(string: body))
        )
    }
}
