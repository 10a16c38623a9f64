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

    /// The session id the request carries, if it carries exactly one, of the right shape.
    /// Two session cookies (`name=a; name=b`) are ambiguous, so they count as none.
    func sessionID(in request: Request) -> SessionID? {
        let found = Self.values(of: name, in: request)
        guard found.count == 1 else { return nil }
        return SessionID(cookieValue: found[0])
    }

    /// Whether the request carries a session cookie at all, valid or not.
    func hasSessionCookie(_ request: Request) -> Bool {
        !Self.values(of: name, in: request).isEmpty
    }

    /// The login state the request's state cookie holds, when it holds exactly one.
    func state(in request: Request) -> String? {
        let found = Self.values(of: stateName, in: request)
        return found.count == 1 ? String(found[0]) : nil
    }

    /// Every value sent for cookie `name`, across all `Cookie` headers. Hummingbird's accessor
    /// returns only the first, which would let a duplicate decide which session is used.
    private static func values(of name: String, in request: Request) -> [Substring] {
        request.headers[values: .cookie].flatMap { header in
            header.split(separator: ";").compactMap { pair -> Substring? in
                let trimmed = pair.drop { $0 == " " }
                guard let equals = trimmed.firstIndex(of: "="), trimmed[..<equals] == Substring(name) else { return nil }
                return trimmed[trimmed.index(after: equals)...]
            }
        }
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
