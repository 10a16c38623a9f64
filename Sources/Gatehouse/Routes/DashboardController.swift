import Foundation
import Hummingbird
import Logging

/// `/dashboard`: the signed-in user, as JSON.
struct DashboardController<Context: RequestContext>: Sendable {
    let authenticator: SessionAuthenticator
    let bodies = DashboardBodyCache()

    static var path: String { "/dashboard" }

    func addRoutes(to router: Router<Context>) {
        router.get("dashboard") { request, context in try await show(request, logger: context.logger) }
    }

    func show(_ request: Request, logger: Logger) async throws -> Response {
        switch try await authenticator.authenticate(request, logger: logger) {
        case .signedOut(let staleCookie):
            return Responses.signInRequired(request, next: Self.path, clearing: staleCookie ? authenticator.cookies.expiredSession() : nil)
        case .signedIn(let session):
            let body = bodies.body(for: session) { Self.body(for: session.profile) }
            return JSONResponse.make(headers: [.cacheControl: "no-store"], encoded: body)
        }
    }

    /// `{"user": {"id", "email", "name"}, "profile": {the provider's profile object}}`, with the
    /// profile object copied in as the provider sent it.
    static func body(for profile: UserProfile) -> Data {
        let user: [String: JSONValue] = [
            "id": .string(profile.id),
            "email": profile.email.map(JSONValue.string) ?? .null,
            "name": profile.name.map(JSONValue.string) ?? .null,
        ]
        var body = Data(#"{"user":"#.utf8)
        body.reserveCapacity(profile.json.count + 200)
        body.append(JSONValue.object(user).encoded())
        body.append(contentsOf: #","profile":"#.utf8)
        body.append(profile.json)
        body.append(UInt8(ascii: "}"))
        return body
    }
}
