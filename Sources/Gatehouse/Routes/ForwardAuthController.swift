import HTTPTypes
import Hummingbird
import Logging

/// `GET /auth`: the subrequest of nginx's `auth_request` (and Traefik's or Caddy's forward auth).
///
/// 200 with `X-Auth-Request-User` and `X-Auth-Request-Email` for a live session, 401 otherwise,
/// always with an empty body: the proxy decides what the browser sees. The answer depends only on
/// the session cookie; no forwarded header (`X-Original-URI`, `X-Forwarded-*`) is read, so none
/// can be spoofed into a different answer.
struct ForwardAuthController<Context: RequestContext>: Sendable {
    let authenticator: SessionAuthenticator

    static var userHeader: HTTPField.Name { HTTPField.Name("X-Auth-Request-User")! }
    static var emailHeader: HTTPField.Name { HTTPField.Name("X-Auth-Request-Email")! }

    func addRoutes(to router: Router<Context>) {
        router.get("auth") { request, context in try await check(request, logger: context.logger) }
    }

    func check(_ request: Request, logger: Logger) async throws -> Response {
        guard case .signedIn(let session) = try await authenticator.authenticate(request, logger: logger) else {
            return Response(status: .unauthorized, headers: [.cacheControl: "no-store"])
        }
        var headers: HTTPFields = [.cacheControl: "no-store"]
        for (name, value) in [(Self.userHeader, session.profile.id), (Self.emailHeader, session.profile.email)] {
            // Only values a header can carry unchanged; a provider's odd profile never reaches the upstream mangled.
            if let value, !value.isEmpty, value.utf8.allSatisfy({ (0x20...0x7E).contains($0) }) {
                headers[name] = value
            }
        }
        return Response(status: .ok, headers: headers)
    }
}
