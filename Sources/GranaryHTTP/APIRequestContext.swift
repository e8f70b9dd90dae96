import Foundation
package import GranaryCatalog
import GranaryParsing
import HTTPTypes
package import Hummingbird
package import NIOCore

/// The request context of the images API: the core context plus who is calling.
package struct APIRequestContext: RequestContext {
    package var coreContext: CoreRequestContextStorage
    /// Set by ``AuthMiddleware``; noauth's admin until then.
    package var caller: Caller = .noauthAdmin
    /// The connection, for zero-copy downloads (``BlobResponse``).
    package let channel: any Channel

    package init(source: Source) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}

/// How callers are identified.
package enum AuthMode: Sendable {
    /// Every caller is an admin with no project (Glance's default paste flavor).
    case noauth
    /// Trust `X-Identity-Status`, `X-Roles`, `X-Project-Id`, `X-User-Id` from a keystonemiddleware
    /// proxy in front (Glance's "trusted auth").
    case headers
    /// Validate `X-Auth-Token` against Keystone (Glance's `keystone` flavor).
    case keystone(KeystoneValidator)
}

/// Establishes the caller from the request, per ``AuthMode`` (Glance: glance/api/middleware/context.py).
///
/// Identity headers are taken as sent, not percent-decoded: keystonemiddleware joins roles
/// with commas, so `X-Roles: reader%2Cadmin` is one (unknown) role. A confirmed identity
/// without a project (a domain-scoped token) may read but not write, as Glance's
/// project-scoped policies decide; admins and `noauth` are not limited. Once the caller is
/// known, a waiting `Expect: 100-continue` is answered (``ExpectContinueHandler``).
package struct AuthMiddleware: RouterMiddleware {
    package typealias Context = APIRequestContext
    let mode: AuthMode
    /// The listener's error format (Glance's or Glare's).
    let format: ErrorFormat

    package init(mode: AuthMode, format: ErrorFormat) {
        self.mode = mode
        self.format = format
    }

    package func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        switch mode {
        case .noauth:
            context.caller = .noauthAdmin
        case .headers:
            guard request.headers[.identityStatus] == "Confirmed" else { return Self.unauthorized() }
            let roles = IdentityHeaders.roles(request.headers[.roles] ?? "")
            let project = request.headers[.projectID] ?? request.headers[.tenantID]
            context.caller = Caller(projectID: project.flatMap { $0.isEmpty ? nil : $0 }, userID: request.headers[.userID], roles: roles)
        case .keystone(let keystone):
            guard let token = request.headers[.authToken], !token.isEmpty else {
                return Self.unauthorized(keystone.url)
            }
            let caller: Caller?
            do {
                caller = try await keystone.caller(for: token)
            } catch {
                throw format.error(.serviceUnavailable, "The identity service could not validate the token: \(error)")
            }
            guard let caller else { return Self.unauthorized(keystone.url) }
            context.caller = caller
        }
        if context.caller.projectID == nil, !context.caller.isAdmin, !Self.readOnlyMethods.contains(request.method) {
            throw format.error(.forbidden, "A token scoped to a project is needed to change anything.")
        }
        if request.headers[.expect] != nil {
            try? await context.channel.triggerUserOutboundEvent(ExpectContinue.send).get()
        }
        return try await next(request, context)
    }

    static let readOnlyMethods: Set<HTTPRequest.Method> = [.get, .head, .options]

    /// keystonemiddleware's 401 (Glance: glance/common/wsgi.py and keystonemiddleware), naming the identity service to ask for a token.
    static func unauthorized(_ keystoneURL: String = "") -> Response {
        let body = #"{"error": {"code": 401, "title": "Unauthorized", "message": "The request you have made requires authentication."}}"#
        return Response(
            status: .unauthorized,
            headers: [.contentType: "application/json", .wwwAuthenticate: "Keystone uri=\"\(keystoneURL)\""],
            body: .init(byteBuffer: ByteBuffer(string: body))
        )
    }
}
