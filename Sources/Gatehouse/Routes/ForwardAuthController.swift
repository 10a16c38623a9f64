import HTTPTypes
import Hummingbird
import HummingbirdAuth

/// `GET /auth`: the subrequest of nginx's `auth_request` (and Traefik's or Caddy's forward auth).
///
/// 200 with `X-Auth-Request-User` and `X-Auth-Request-Email` for a live session, 401 otherwise,
/// always with an empty body: the proxy decides what the browser sees. The answer depends only on
/// the session cookie; no forwarded header (`X-Original-URI`, `X-Forwarded-*`) is read, so none
/// can be spoofed into a different answer.
struct ForwardAuthController<Context: AuthRequestContext<Session>>: Sendable {
    static var userHeader: HTTPField.Name { HTTPField.Name("X-Auth-Request-User")! }
    static var emailHeader: HTTPField.Name { HTTPField.Name("X-Auth-Request-Email")! }

    /// Adds `/auth` to a group whose ``SessionMiddleware`` revalidates.
    func addRoutes(to group: RouterGroup<Context>) {
        group.get("auth") { _, context in check(context.identity) }
    }

    func check(_ identity: Session?) -> Response {
        guard let session = identity else {
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
