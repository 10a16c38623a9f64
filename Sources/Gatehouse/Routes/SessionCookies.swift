import Hummingbird

/// The two cookies Gatehouse sets: the session cookie and the short-lived login-state cookie.
///
/// Both are `HttpOnly` and `SameSite=Lax`, and `Secure` when configured. The state cookie is scoped
/// to the callback path, so it travels only where it is checked.
struct SessionCookies: Sendable {
    /// The session cookie's name.
    let name: String
    /// Whether cookies carry `Secure`.
    let secure: Bool
    /// The session cookie's lifetime, the absolute timeout.
    let sessionMaxAge: Int
    /// The state cookie's lifetime, the pending-login lifetime.
    let stateMaxAge: Int

    static let callbackPath = "/login/callback"

    var stateName: String { name + "_state" }

    // MARK: - Reading

    /// The session id the request carries, if it carries one of the right shape.
    func sessionID(in request: Request) -> SessionID? {
        request.cookies[name].flatMap { SessionID(cookieValue: $0.value) }
    }

    /// Whether the request carries a session cookie at all, valid or not.
    func hasSessionCookie(_ request: Request) -> Bool {
        request.cookies[name] != nil
    }

    /// The login state the request's state cookie holds.
    func state(in request: Request) -> String? {
        request.cookies[stateName]?.value
    }

    // MARK: - Writing

    func session(_ id: SessionID) -> Cookie {
        Cookie(name: name, value: id.cookieValue, maxAge: sessionMaxAge, path: "/", secure: secure, httpOnly: true, sameSite: .lax)
    }

    func expiredSession() -> Cookie {
        Cookie(name: name, value: "", maxAge: 0, path: "/", secure: secure, httpOnly: true, sameSite: .lax)
    }

    func state(_ state: String) -> Cookie {
        Cookie(name: stateName, value: state, maxAge: stateMaxAge, path: Self.callbackPath, secure: secure, httpOnly: true, sameSite: .lax)
    }

    func expiredState() -> Cookie {
        Cookie(name: stateName, value: "", maxAge: 0, path: Self.callbackPath, secure: secure, httpOnly: true, sameSite: .lax)
    }
}
