import HTTPTypes
import Hummingbird

/// Refuses a request that names more than one host (400 `bad_host`), as RFC 9112 §3.2 requires
/// of a server: Gatehouse reads the first `Host`, and an app or proxy behind it might read
/// another, so the request would mean one thing here and another there.
///
/// The first `Host` is the request's authority; another is left among its header fields.
struct SingleHostMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.headers[hostField] == nil else { throw GatewayError.severalHosts }
        return try await next(request, context)
    }
}

/// `Host`, a name HTTPTypes keeps from use (the first is the request's authority).
private let hostField = HTTPField.Name("Host")!

extension GatewayError {
    static let severalHosts = GatewayError(.badRequest, code: "bad_host", message: "The request names more than one host.")
}
