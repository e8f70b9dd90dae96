import GranaryHTTP
import GranaryParsing
import HTTPTypes
import Hummingbird
import NIOCore

/// Glare's microversion negotiation (glare/api/middleware/version_negotiation.py,
/// glare/api/v1/api_version_request.py): the version is the rest of an `Accept` of
/// `application/vnd.openstack.artifacts-X.Y`, else the last `artifact X.Y` of
/// `OpenStack-API-Version`, else 1.0; `latest` is 1.1. A malformed version is a 400, one
/// outside 1.0–1.1 a 406 naming `min_version` and `max_version`. Answers echo the version and
/// `Vary`. No call is refused at 1.0: Glare's 1.1 gates never took effect (its decorator and
/// its lookup use different names), so quotas and blob deletion answer at 1.0 as they do there.
struct MicroversionMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext
    static let minimum = (1, 0)
    static let maximum = (1, 1)
    static let header = HTTPField.Name("OpenStack-API-Version")!  // checked: a valid literal name
    static let mediaPrefix = "application/vnd.openstack.artifacts-"

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let requested = Self.requested(request)
        guard let version = Self.parse(requested) else {
            throw GlareError(.badRequest, "API version string \(requested) is not valid. Cannot determine API version.")
        }
        guard version >= Self.minimum && version <= Self.maximum else { return try Self.notAcceptable(requested) }
        var response = try await next(request, context)
        response.headers[Self.header] = "artifact \(version.0).\(version.1)"
        response.headers.append(HTTPField(name: .vary, value: "openstack-api-version"))
        return response
    }

    /// The version string asked for ("1.0" when none is).
    static func requested(_ request: Request) -> String {
        if let accept = request.headers[.accept], accept.hasPrefix(mediaPrefix) { return String(accept.dropFirst(mediaPrefix.count)) }
        let entries = request.headers[values: header].flatMap { $0.split(separator: ",") }
        for entry in entries.reversed() {
            let words = entry.split(separator: " ", omittingEmptySubsequences: true)
            if words.count == 2, words[0].lowercased() == "artifact" { return String(words[1]) }  // checked: count tested
        }
        return "1.0"
    }

    /// `latest`, or `MAJOR.MINOR` without leading zeros (Glare's pattern `^([1-9]\d*)\.([1-9]\d*|0)$`).
    static func parse(_ text: String) -> (Int, Int)? {
        if text == "latest" { return maximum }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let major = parts.first, let minor = parts.last,
            major.first != "0", minor == "0" || minor.first != "0", isDigits(major), isDigits(minor),
            let majorNumber = DecimalText.integer(String(major)), let minorNumber = DecimalText.integer(String(minor)),
            majorNumber > 0, minorNumber >= 0
        else { return nil }
        return (majorNumber, minorNumber)
    }

    private static func isDigits(_ text: Substring) -> Bool { text.allSatisfy { $0.isASCII && $0.isNumber } }

    /// 406 in Glare's fault format with the range at the top level.
    static func notAcceptable(_ requested: String) throws -> Response {
        let (least, most) = ("\(minimum.0).\(minimum.1)", "\(maximum.0).\(maximum.1)")
        var headers: HTTPFields = [:]
        let body = try GlareErrorBody.render(
            .notAcceptable, "Version \(requested) is not supported by the API. Minimum is \(least) and maximum is \(most).",
            type: "InvalidGlobalAPIVersion", extra: ["min_version": least, "max_version": most], headers: &headers)
        return Response(status: .notAcceptable, headers: headers, body: .init(byteBuffer: body))
    }
}
