import Crypto
import Foundation
import Hummingbird

/// The cookies Gatehouse sets: the session cookie, and one login-attempt cookie per login in flight.
///
/// All are `HttpOnly`, `SameSite=Lax` and `Path=/`, and `Secure` when configured. When the public
/// URL is https and cookies are secure, every name carries the `__Host-` prefix, so no other host
/// of the domain can set or read them.
struct SessionCookies: Sendable {
    /// The session cookie's name, prefix included.
    let name: String
    /// Whether cookies carry `Secure`.
    let secure: Bool
    /// The session cookie's lifetime, the absolute timeout.
    let sessionMaxAge: Int
    /// A login-attempt cookie's lifetime, the attempt's.
    let attemptMaxAge: Int

    /// The most login-attempt cookies one browser keeps (one per tab that is logging in).
    static let attemptLimit = 3
    /// The most bytes all of a browser's attempt cookies may take, so its `Cookie` header stays
    /// well under the server's 8 KiB limit for one header.
    static let attemptBytesLimit = 4096

    /// - Parameters:
    ///   - cookieName: `sessions.cookieName`; the prefix is added here when it applies.
    ///   - publicURL: the gateway's public URL; https with `secure` gives the `__Host-` prefix.
    init(cookieName: String, publicURL: String, secure: Bool, sessionMaxAge: Int, attemptMaxAge: Int) {
        let prefixed = secure && publicURL.lowercased().hasPrefix("https://") && !cookieName.hasPrefix(Self.hostPrefix)
        self.name = prefixed ? Self.hostPrefix + cookieName : cookieName
        self.secure = secure || cookieName.hasPrefix(Self.hostPrefix)
        self.sessionMaxAge = sessionMaxAge
        self.attemptMaxAge = attemptMaxAge
    }

    static let hostPrefix = "__Host-"
    static let callbackPath = "/login/callback"

    /// What every login-attempt cookie's name starts with: `{name}_state_`.
    var attemptPrefix: String { name + "_state_" }

    /// The attempt cookie for `state`: the prefix and 8 characters of the state's SHA-256, so the
    /// callback finds its own attempt among the tabs' without trying each.
    func attemptName(for state: String) -> String {
        attemptPrefix + String(Base64URL.encode(SHA256.hash(data: Data(state.utf8))).prefix(8))
    }

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

    /// The value of the attempt cookie for `state`, when the request carries exactly one.
    func attemptValue(for state: String, in request: Request) -> Substring? {
        let found = Self.values(of: attemptName(for: state), in: request)
        return found.count == 1 ? found[0] : nil
    }

    /// Every login-attempt cookie the request carries, by name.
    func attempts(in request: Request) -> [(name: String, value: Substring)] {
        Self.pairs(in: request).filter { $0.name.hasPrefix(attemptPrefix) }.map { (String($0.name), $0.value) }
    }

    /// Every value sent for cookie `name`, across all `Cookie` headers. Hummingbird's accessor
    /// returns only the first, which would let a duplicate decide which session is used.
    private static func values(of name: String, in request: Request) -> [Substring] {
        pairs(in: request).filter { $0.name == Substring(name) }.map(\.value)
    }

    private static func pairs(in request: Request) -> [(name: Substring, value: Substring)] {
        request.headers[values: .cookie].flatMap { header in
            header.split(separator: ";").compactMap { pair -> (Substring, Substring)? in
                let trimmed = pair.drop { $0 == " " }
                guard let equals = trimmed.firstIndex(of: "=") else { return nil }
                return (trimmed[..<equals], trimmed[trimmed.index(after: equals)...])
            }
        }
    }

    // MARK: - Writing

    func session(_ id: SessionID) -> Cookie {
        cookie(name, value: id.cookieValue, maxAge: sessionMaxAge)
    }

    func expiredSession() -> Cookie {
        cookie(name, value: "", maxAge: 0)
    }

    func attempt(named name: String, value: String) -> Cookie {
        cookie(name, value: value, maxAge: attemptMaxAge)
    }

    func expiredAttempt(named name: String) -> Cookie {
        cookie(name, value: "", maxAge: 0)
    }

    private func cookie(_ name: String, value: String, maxAge: Int) -> Cookie {
        Cookie(name: name, value: value, maxAge: maxAge, path: "/", secure: secure, httpOnly: true, sameSite: .lax)
    }
}
