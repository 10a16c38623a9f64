import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdAuth
import HummingbirdCore
import Logging
import NIOCore
import Synchronization

/// `GET /auth`: the subrequest of nginx's `auth_request`, Caddy's `forward_auth` and Traefik's
/// `forwardAuth` (contract §9).
///
/// The path checked is the one the proxy forwards (`X-Original-URI`, `X-Forwarded-Uri`), read
/// only from a trusted proxy; otherwise `/`. When a request brings both, both must pass: a
/// client's own copy of the header the proxy does not set can only make the answer stricter.
/// A public path is 200 without identity headers and needs no session. Otherwise: 401 without a
/// session, 403 when its user does not pass the path's rules or the location's (`allowed_groups`,
/// `allowed_emails`, `allowed_email_domains` in the query), else 200 with `X-Auth-Request-*`.
/// Always an empty body: the proxy decides what the browser sees.
struct ForwardAuthController<Context: GatewayContext>: Sendable {
    let authenticator: SessionAuthenticator
    let access: Reloadable<AccessControl>
    let untrustedWarnings = UntrustedProxyWarnings()

    /// Added beside the gated groups rather than in one: it authenticates only when the path is not public.
    func addRoutes(to router: Router<Context>) {
        router.get("auth") { request, context in try await check(request, context: context) }
    }

    func check(_ request: Request, context: Context) async throws -> Response {
        let control = access.value
        let forwarded = ForwardedRequest(request.headers, trusted: control.trustedProxies.contains(context.remoteAddress))
        if forwarded.ignoredHeaders {
            untrustedWarnings.note(logger: context.logger, peer: context.remoteAddress)
        }
        var requirements: [AccessPolicy.Requirement?] = forwarded.paths.flatMap { readings -> [AccessPolicy.Requirement?] in
            guard let readings else { return [nil] }
            return control.policy.requirements(forReadings: readings)
        }
        let requireVerifiedEmail = control.policy.sessionRule.requireVerifiedEmail
        requirements += Self.locationRules(request.uri.queryParameters, requireVerifiedEmail: requireVerifiedEmail).map { .rules($0) }
        context.logger.debug(
            "Forward auth",
            metadata: ["forwarded.trusted": "\(forwarded.trusted)", "forwarded.method": "\(forwarded.method ?? "-")"]
        )
        if requirements.allSatisfy({ $0 == .public }) {
            return Self.answer(.ok)
        }
        switch try await authenticator.authenticate(request, logger: context.logger) {
        case .signedOut(let staleCookie):
            var response = Self.answer(.unauthorized)
            if staleCookie { response.setCookie(authenticator.cookies.expiredSession()) }
            return response
        case .refused:
            var response = Self.answer(.forbidden)
            response.setCookie(authenticator.cookies.expiredSession())
            return response
        case .signedIn(let session):
            let identity = control.identity(of: session.profile)
            // A nil requirement is a forwarded path that is not one (malformed encoding, control characters).
            guard requirements.allSatisfy({ $0?.admits(identity) == true }) else { return Self.answer(.forbidden) }
            guard
                let headers = Self.identityHeaders(
                    identity,
                    session: session,
                    passAccessToken: control.passAccessToken,
                    requireVerifiedEmail: requireVerifiedEmail
                )
            else {
                context.logger.warning("Forward auth refused: the user id cannot be carried in a header", metadata: ["user.id": "\(session.profile.id)"])
                return Self.answer(.forbidden)
            }
            return Self.answer(.ok, headers: headers)
        }
    }

    /// The rules a location asks for in the query, one per parameter given (`allowed_groups`,
    /// `allowed_emails`, `allowed_email_domains`, each a comma-separated list): every one must pass,
    /// so text a proxy appends to a location's query can only narrow it.
    static func locationRules(_ query: FlatDictionary<Substring, Substring>, requireVerifiedEmail: Bool) -> [AccessRule] {
        func list(_ value: some StringProtocol) -> [String] {
            value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        var rules: [AccessRule] = []
        for value in query.getAll("allowed_emails") {
            rules.append(AccessRule(allowEmails: list(value), requireVerifiedEmail: requireVerifiedEmail))
        }
        for value in query.getAll("allowed_email_domains") {
            rules.append(AccessRule(allowEmailDomains: list(value), requireVerifiedEmail: requireVerifiedEmail))
        }
        for value in query.getAll("allowed_groups") {
            rules.append(AccessRule(allowGroups: list(value), requireVerifiedEmail: requireVerifiedEmail))
        }
        // An empty list (`allowed_groups=`) lets no one in, rather than everyone.
        return rules.map { $0.admitsEveryone ? AccessRule(allowGroups: [""], requireVerifiedEmail: requireVerifiedEmail) : $0 }
    }

    /// `X-Auth-Request-User`, `-Email`, `-Groups`, `-Preferred-Username`, and the access token
    /// when asked (``PassedIdentity``). `nil` when the user id cannot be carried: no 200 goes out without it.
    static func identityHeaders(_ identity: AccessIdentity, session: Session, passAccessToken: Bool, requireVerifiedEmail: Bool) -> HTTPFields? {
        guard let passed = PassedIdentity(identity, session: session, passAccessToken: passAccessToken, requireVerifiedEmail: requireVerifiedEmail)
        else { return nil }
        var headers = HTTPFields()
        headers[IdentityHeaders.user] = passed.user
        headers[IdentityHeaders.email] = passed.email
        headers[IdentityHeaders.groups] = passed.groups
        headers[IdentityHeaders.preferredUsername] = passed.preferredUsername
        if let token = passed.accessToken {
            headers[IdentityHeaders.accessToken] = token
            headers[.authorization] = "Bearer \(token)"
        }
        return headers
    }

    private static func answer(_ status: HTTPResponse.Status, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers)
    }
}

/// The headers `/auth` answers with, as proxies copy them to the app.
enum IdentityHeaders {
    static let user = HTTPField.Name("X-Auth-Request-User")!
    static let email = HTTPField.Name("X-Auth-Request-Email")!
    static let groups = HTTPField.Name("X-Auth-Request-Groups")!
    static let preferredUsername = HTTPField.Name("X-Auth-Request-Preferred-Username")!
    static let accessToken = HTTPField.Name("X-Auth-Request-Access-Token")!
}

/// What a proxy says about the request it asks `/auth` about, believed only from a trusted proxy.
struct ForwardedRequest {
    /// The readings of each forwarded path (``RequestPath/readings(_:)``; `nil`: one that is not
    /// a path); `/` when none is believed.
    let paths: [[String]?]
    let method: String?
    let trusted: Bool
    /// Whether the request carried forwarded headers that were not believed.
    let ignoredHeaders: Bool

    static let originalURI = HTTPField.Name("X-Original-URI")!
    static let forwardedURI = HTTPField.Name("X-Forwarded-Uri")!
    static let forwardedMethod = HTTPField.Name("X-Forwarded-Method")!

    init(_ headers: HTTPFields, trusted: Bool) {
        self.trusted = trusted
        let sent = headers[values: Self.originalURI] + headers[values: Self.forwardedURI]
        let given = trusted ? sent : []
        paths = given.isEmpty ? [["/"]] : given.map(RequestPath.readings)
        method = trusted ? headers[Self.forwardedMethod] : nil
        ignoredHeaders = !trusted && !sent.isEmpty
    }
}

/// Warns, at most once a minute, that forwarded paths arrive from an address `trustedProxies`
/// does not name: `/auth` then checks `/` for every request, which is rarely what was meant.
final class UntrustedProxyWarnings: Sendable {
    private let lastWarning = Mutex<ContinuousClock.Instant?>(nil)

    func note(logger: Logger, peer: SocketAddress?) {
        let now = ContinuousClock.now
        let due = lastWarning.withLock { last in
            guard last.map({ now - $0 >= .seconds(60) }) ?? true else { return false }
            last = now
            return true
        }
        guard due else { return }
        logger.warning(
            "Forward auth ignored X-Original-URI / X-Forwarded-Uri from an address access.trustedProxies does not name; it checks / instead",
            metadata: ["peer": "\(peer?.ipAddress ?? "unknown")"]
        )
    }
}
