import Foundation
import Hummingbird
import HummingbirdAuth

/// `/dashboard`: the signed-in user, as JSON. Added to a group that requires a session.
struct DashboardController<Context: AuthRequestContext<Session>>: Sendable {
    let bodies: DashboardBodyCache

    func addRoutes(to group: RouterGroup<Context>) {
        group.get("dashboard") { _, context in try show(context.requireIdentity()) }
    }

    func show(_ session: Session) -> Response {
        let body = bodies.body(for: session) { Self.body(for: session.profile) }
        return JSONResponse.make(headers: [.cacheControl: "no-store"], encoded: body)
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
