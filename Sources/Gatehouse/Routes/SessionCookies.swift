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

    /// What a request carries for the session cookie.
    enum Carried {
        /// No session cookie.
        case absent
        /// One, with this id, or none of the right shape.
        case one(SessionID?)
        /// Two or more (`name=a; name=b`): ambiguous, so they count as none.
        case several
    }

    /// The session cookie the request carries, read in one pass over its `Cookie` headers.
    func sessionCookie(in request: Request) -> Carried {
        var found: Substring?
        for header in request.headers[values: .cookie] {
            var rest = header[...]
            while !rest.isEmpty {
                let end = rest.utf8.firstIndex(of: UInt8(ascii: ";")) ?? rest.endIndex
                if let value = Self.value(in: rest[..<end], named: name) {
                    if found != nil { return .several }
                    found = value
                }
                rest = end == rest.endIndex ? rest[end...] : rest[rest.index(after: end)...]
            }
        }
        return found.map { .one(SessionID(cookieValue: $0)) } ?? .absent
    }

    /// The session id the request carries, if it carries exactly one, of the right shape.
    func sessionID(in request: Request) -> SessionID? {
        guard case .one(let id) = sessionCookie(in: request) else { return nil }
        return id
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

    /// The value of one `name=value` pair of a `Cookie` header (leading spaces aside) when its name is `name`.
    private static func value(in pair: Substring, named name: String) -> Substring? {
        let trimmed = pair.drop { $0 == " " }
        guard trimmed.utf8.count > name.utf8.count, trimmed.utf8.starts(with: name.utf8) else { return nil }
        let equals = trimmed.utf8.index(trimmed.startIndex, offsetBy: name.utf8.count)
        guard trimmed.utf8[equals] == UInt8(ascii: "=") else { return nil }
        return trimmed[trimmed.utf8.index(after: equals)...]
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
