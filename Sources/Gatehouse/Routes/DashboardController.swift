import Foundation
import Hummingbird

/// `/dashboard`: the signed-in user, as JSON.
struct DashboardController<Context: RequestContext>: Sendable {
    let authenticator: SessionAuthenticator

    static var path: String { "/dashboard" }

    func addRoutes(to router: Router<Context>) {
        router.get("dashboard") { request, _ in try await show(request) }
    }

    func show(_ request: Request) async throws -> Response {
        switch try await authenticator.authenticate(request) {
        case .signedOut(let staleCookie):
            return Responses.signInRequired(request, next: Self.path, clearing: staleCookie ? authenticator.cookies.expiredSession() : nil)
        case .signedIn(let session):
            let profile = session.profile
            let user: [String: JSONValue] = [
                "id": .string(profile.id),
                "email": profile.email.map(JSONValue.string) ?? .null,
                "name": profile.name.map(JSONValue.string) ?? .null,
            ]
            return JSONResponse.make(headers: [.cacheControl: "no-store"], ["user": .object(user), "profile": .object(profile.attributes)])
        }
    }
}
