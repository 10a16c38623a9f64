import Crypto
import Foundation
import JWTKit

/// The mock provider's OpenID Connect side: its clients, authorization codes and grants, and the
/// key it signs ID tokens with (ES256, generated at start).
///
/// Users and access tokens are the ``MockDirectory``'s, so both protocols of the mock see the same
/// people, and an access token can be expired or invalidated as with the LoginRadius API. Codes
/// are single-use with PKCE (S256) required; refresh tokens rotate, and a used one is refused.
public actor MockOpenIDProvider {
    /// A client registered at the mock.
    public struct Client: Sendable, Equatable {
        public var id: String
        /// `nil` for a public client.
        public var secret: String?
        /// The redirect URIs accepted, exactly; `nil` accepts any http(s) URL on a loopback host.
        public var redirectURIs: [String]?
        /// Where the end-session endpoint may send a browser back to, exactly; `nil`: any loopback URL.
        public var postLogoutRedirectURIs: [String]?

        public init(id: String, secret: String? = nil, redirectURIs: [String]? = nil, postLogoutRedirectURIs: [String]? = nil) {
            self.id = id
            self.secret = secret
            self.redirectURIs = redirectURIs
            self.postLogoutRedirectURIs = postLogoutRedirectURIs
        }

        /// The confidential client `gatehouse demo --provider oidc` uses.
        public static let demo = Client(id: "gatehouse-demo", secret: "gatehouse-demo-secret")
        /// A public client (PKCE alone), for trying one.
        public static let demoPublic = Client(id: "gatehouse-demo-public")

        func accepts(redirectURI: String) -> Bool {
            redirectURIs.map { $0.contains(redirectURI) } ?? Self.isLoopback(redirectURI)
        }

        func accepts(postLogoutRedirectURI: String) -> Bool {
            postLogoutRedirectURIs.map { $0.contains(postLogoutRedirectURI) } ?? Self.isLoopback(postLogoutRedirectURI)
        }

        private static func isLoopback(_ uri: String) -> Bool {
            guard let url = URLComponents(string: uri), ["http", "https"].contains(url.scheme?.lowercased() ?? ""),
                let host = url.host?.lowercased()
            else { return false }
            return ["127.0.0.1", "localhost", "::1", "[::1]"].contains(host)
        }
    }

    /// Ways the mock's ID tokens can be wrong, so tests can watch the gateway refuse them.
    public enum IDTokenFault: Sendable, Equatable {
        case wrongIssuer, wrongAudience, wrongNonce, expired, issuedInTheFuture
        /// `alg: none`, no signature.
        case unsigned
        /// HS256 with the public key's bytes as the secret: the classic key-confusion forgery.
        case hmacWithPublicKey
        /// Signed by a key the JWKS does not publish, under a `kid` it does not name.
        case unknownKey
        /// Signed properly, then one character of the payload changed.
        case tamperedPayload
    }

    public let directory: MockDirectory
    /// The key ID tokens are signed with now, and its `kid`.
    private var signingKey: ES256PrivateKey
    private var keyID: String
    /// The keys the JWKS publishes: the current one first, then the one it replaced.
    private var published: [(kid: String, key: ES256PrivateKey)]
    private let keys: JWTKeyCollection
    private var clients: [String: Client]
    private var codes: [String: Authorization] = [:]
    /// Bounds on what a script signing in without end can make the mock hold.
    static let maximumPendingCodes = 10_000
    static let maximumGrants = 20_000
    private var grants: [String: Grant] = [:]
    /// Refresh token → grant.
    private var refreshTokens: [String: String] = [:]
    private var idTokenFault: IDTokenFault?
    /// The issuer the mock names itself by, when fixed (``setIssuer(_:)``); else its base URL as
    /// each request reached it.
    public private(set) var fixedIssuer: String?
    private var rotatesRefreshTokens = true
    private var claimsByProfile: [Data: (profile: UserProfile, claims: StandardClaims)] = [:]
    /// The user of ``openCodePrefix`` codes, when the mock accepts them.
    private var openCodesUserID: String?
    private let now: @Sendable () -> Date

    /// How many token requests arrived, by grant type, for tests.
    public private(set) var tokenRequests: [String: Int] = [:]
    /// How many revocations succeeded.
    public private(set) var revocationCount = 0
    /// How each authenticated client request proved the client: `basic`, `post` or `none`.
    public private(set) var clientAuthentications: [String] = []
    /// What discovery says the token endpoint accepts.
    private var tokenEndpointAuthMethods = ["client_secret_basic", "client_secret_post", "none"]

    private struct Authorization {
        var clientID: String
        var redirectURI: String
        var codeChallenge: String
        var nonce: String?
        var scope: String
        var userID: String
        var expiresAt: Date
    }

    private struct Grant {
        var clientID: String
        var userID: String
        var scope: String
        var accessTokens: Set<String>
    }

    public init(directory: MockDirectory, clients: [Client] = [.demo, .demoPublic], now: @escaping @Sendable () -> Date = Date.init) async {
        self.directory = directory
        self.clients = Dictionary(clients.map { ($0.id, $0) }, uniquingKeysWith: { _, last in last })
        let (key, kid) = (ES256PrivateKey(), Self.newKeyID())
        (self.signingKey, self.keyID, self.published) = (key, kid, [(kid, key)])
        self.keys = JWTKeyCollection()
        await keys.add(ecdsa: key, kid: JWKIdentifier(string: kid))
        self.now = now
    }

    // MARK: - Test controls

    /// What begins an open code: `open.NONCE.CHALLENGE.ANYTHING`.
    public static let openCodePrefix = "open."

    /// Accepts, as `userID`'s, codes no page issued that carry the authorization request's nonce
    /// and PKCE challenge themselves (``openCodePrefix``), so a benchmark logs in without the page;
    /// the exchange checks the verifier against that challenge as for any code. While open codes
    /// are accepted, grants past the bound replace the oldest instead of being refused.
    public func acceptOpenCodes(forUserID userID: String) async -> Bool {
        guard await directory.hasUser(userID) else { return false }
        openCodesUserID = userID
        return true
    }

    /// Makes the ID tokens the mock issues wrong in the given way; `nil` restores correct ones.
    public func setIDTokenFault(_ fault: IDTokenFault?) {
        idTokenFault = fault
    }

    /// Whether a refresh issues a new refresh token (and refuses the old one); on by default.
    public func setRotatesRefreshTokens(_ rotates: Bool) {
        rotatesRefreshTokens = rotates
    }

    /// What discovery says the token endpoint accepts (`token_endpoint_auth_methods_supported`).
    public func setTokenEndpointAuthMethods(_ methods: [String]) {
        tokenEndpointAuthMethods = methods
    }

    /// Fixes the issuer the mock names itself by (its base URL), instead of reading it from each
    /// request's `Host`.
    public func setIssuer(_ issuer: String?) {
        fixedIssuer = issuer
    }

    /// Registers (or replaces) a client.
    public func register(_ client: Client) {
        clients[client.id] = client
    }

    // MARK: - Discovery and keys

    /// The discovery document for the mock at `issuer` (its base URL).
    public func discoveryDocument(issuer: String) -> JSONValue {
        .object([
            "issuer": .string(issuer),
            "authorization_endpoint": .string(issuer + "/oauth/authorize"),
            "token_endpoint": .string(issuer + "/oauth/token"),
            "jwks_uri": .string(issuer + "/oauth/jwks"),
            "userinfo_endpoint": .string(issuer + "/oauth/userinfo"),
            "revocation_endpoint": .string(issuer + "/oauth/revoke"),
            "end_session_endpoint": .string(issuer + "/oauth/logout"),
            "response_types_supported": .array([.string("code")]),
            "subject_types_supported": .array([.string("public")]),
            "id_token_signing_alg_values_supported": .array([.string("ES256")]),
            "code_challenge_methods_supported": .array([.string("S256")]),
            "grant_types_supported": .array([.string("authorization_code"), .string("refresh_token")]),
            "token_endpoint_auth_methods_supported": .array(tokenEndpointAuthMethods.map(JSONValue.string)),
            "scopes_supported": .array([.string("openid"), .string("email"), .string("profile")]),
            "prompt_values_supported": .array([.string("create"), .string("login")]),
        ])
    }

    /// How many times the JWKS was fetched.
    public private(set) var keySetRequests = 0

    /// The JWKS: the public keys, each with its `kid` and `alg`.
    public func keySet() -> JSONValue {
        keySetRequests += 1
        return .object([
            "keys": .array(
                published.map { kid, key in
                    let parameters = key.publicKey.parameters
                    return .object([
                        "kty": .string("EC"), "crv": .string("P-256"), "use": .string("sig"), "alg": .string("ES256"),
                        "kid": .string(kid), "x": .string(parameters?.x ?? ""), "y": .string(parameters?.y ?? ""),
                    ])
                }
            )
        ])
    }

    /// Starts signing with a new key under a new `kid`, as providers rotate keys; the JWKS then
    /// publishes the new key and the one before it.
    public func rotateSigningKey() async {
        (signingKey, keyID) = (ES256PrivateKey(), Self.newKeyID())
        published = [(keyID, signingKey)] + published.prefix(1)
        await keys.add(ecdsa: signingKey, kid: JWKIdentifier(string: keyID))
    }

    private static func newKeyID() -> String {
        "mock-" + String(UUID().uuidString.prefix(8)).lowercased()
    }

    // MARK: - Authorization

    /// The error of an authorization request that cannot even be sent back to the client: an
    /// unknown client or a redirect URI it did not register (RFC 6749 §4.1.2.1). `nil` when it can.
    public func checkClient(_ clientID: String?, redirectURI: String?) -> String? {
        guard let clientID, let client = clients[clientID] else { return "unknown client_id" }
        guard let redirectURI, client.accepts(redirectURI: redirectURI) else { return "redirect_uri is not registered for this client" }
        return nil
    }

    /// Issues a code for `userID`, after the user picked themselves on the page. Needs PKCE S256.
    public func authorize(
        clientID: String,
        redirectURI: String,
        codeChallenge: String,
        nonce: String?,
        scope: String,
        userID: String
    ) -> String {
        if codes.count >= Self.maximumPendingCodes {
            // Codes live a minute: the expired go first, then any (a flood only spends its own).
            let date = now()
            codes = codes.filter { $0.value.expiresAt > date }
            while codes.count >= Self.maximumPendingCodes, let any = codes.keys.first { codes[any] = nil }
        }
        let code = Self.randomToken()
        codes[code] = Authorization(
            clientID: clientID,
            redirectURI: redirectURI,
            codeChallenge: codeChallenge,
            nonce: nonce,
            scope: scope,
            userID: userID,
            expiresAt: now().addingTimeInterval(60)
        )
        return code
    }

    // MARK: - Token endpoint

    /// One token endpoint answer: a status and a JSON body.
    public struct Answer: Sendable {
        public var status: Int
        public var body: JSONValue
        var headers: [(String, String)] = []

        static func error(_ code: String, status: Int = 400, _ description: String) -> Answer {
            Answer(status: status, body: .object(["error": .string(code), "error_description": .string(description)]))
        }
    }

    /// `POST /oauth/token`, with the form and the client credentials the request carried.
    ///
    /// - Parameter issuer: the mock's base URL as the request reached it, which ID tokens name.
    public func token(form: [String: String], basic: (id: String, secret: String)?, issuer: String) async -> Answer {
        tokenRequests[form["grant_type"] ?? "", default: 0] += 1
        guard let client = authenticate(form: form, basic: basic) else {
            return Answer(
                status: 401,
                body: .object(["error": .string("invalid_client"), "error_description": .string("client authentication failed")]),
                headers: [("WWW-Authenticate", "Basic realm=\"mock\"")]
            )
        }
        switch form["grant_type"] {
        case "authorization_code":
            return await exchange(form: form, client: client, issuer: issuer)
        case "refresh_token":
            return await refresh(form: form, client: client, issuer: issuer)
        default:
            return .error("unsupported_grant_type", "only authorization_code and refresh_token")
        }
    }

    private func exchange(form: [String: String], client: Client, issuer: String) async -> Answer {
        guard let code = form["code"], let authorization = codes.removeValue(forKey: code) ?? openAuthorization(code, form: form, client: client) else {
            return .error("invalid_grant", "the code is unknown or was used already")
        }
        guard authorization.clientID == client.id, authorization.expiresAt > now() else {
            return .error("invalid_grant", "the code is not this client's or has expired")
        }
        guard form["redirect_uri"] == authorization.redirectURI else {
            return .error("invalid_grant", "redirect_uri differs from the authorization request's")
        }
        guard let verifier = form["code_verifier"], Self.challenge(for: verifier) == authorization.codeChallenge else {
            return .error("invalid_grant", "the PKCE code_verifier does not match the code_challenge")
        }
        if openCodesUserID != nil, grants.count >= Self.maximumGrants, let oldest = grants.keys.first {
            grants[oldest] = nil
        }
        guard grants.count < Self.maximumGrants else {
            return .error("temporarily_unavailable", status: 503, "the mock holds as many grants as it keeps; restart it to begin again")
        }
        let grantID = Self.randomToken()
        grants[grantID] = Grant(clientID: client.id, userID: authorization.userID, scope: authorization.scope, accessTokens: [])
        return await tokens(for: grantID, nonce: authorization.nonce, issuer: issuer)
    }

    /// The authorization an open code stands for, when open codes are accepted.
    private func openAuthorization(_ code: String, form: [String: String], client: Client) -> Authorization? {
        guard let userID = openCodesUserID, code.hasPrefix(Self.openCodePrefix) else { return nil }
        let parts = code.dropFirst(Self.openCodePrefix.count).split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count >= 2, let redirectURI = form["redirect_uri"] else { return nil }
        return Authorization(
            clientID: client.id,
            redirectURI: redirectURI,
            codeChallenge: String(parts[1]),
            nonce: parts[0].isEmpty ? nil : String(parts[0]),
            scope: "openid profile email",
            userID: userID,
            expiresAt: now().addingTimeInterval(60)
        )
    }

    private func refresh(form: [String: String], client: Client, issuer: String) async -> Answer {
        guard let token = form["refresh_token"], let grantID = refreshTokens[token], let grant = grants[grantID], grant.clientID == client.id else {
            return .error("invalid_grant", "the refresh token is unknown, used already or revoked")
        }
        if rotatesRefreshTokens { refreshTokens[token] = nil }
        return await tokens(for: grantID, nonce: nil, issuer: issuer, keepRefreshToken: rotatesRefreshTokens ? nil : token)
    }

    private func tokens(for grantID: String, nonce: String?, issuer: String, keepRefreshToken: String? = nil) async -> Answer {
        guard let grant = grants[grantID], let access = await directory.issueToken(forUserID: grant.userID) else {
            return .error("invalid_grant", "the user no longer exists")
        }
        grants[grantID]?.accessTokens.insert(access.value)
        var body: [String: JSONValue] = [
            "access_token": .string(access.value), "token_type": .string("Bearer"),
            "expires_in": .integer(Int64(MockDirectory.seconds(directory.configuration.tokenLifetime))), "scope": .string(grant.scope),
        ]
        if keepRefreshToken == nil {
            let refresh = Self.randomToken()
            refreshTokens[refresh] = grantID
            body["refresh_token"] = .string(refresh)
        }
        if let idToken = await idToken(for: grant, nonce: nonce, issuer: issuer) {
            body["id_token"] = .string(idToken)
        }
        return Answer(status: 200, body: .object(body), headers: [("Cache-Control", "no-store")])
    }

    private func authenticate(form: [String: String], basic: (id: String, secret: String)?) -> Client? {
        if let basic {
            guard let client = clients[basic.id], let secret = client.secret, secret == basic.secret else { return nil }
            clientAuthentications.append("basic")
            return client
        }
        guard let id = form["client_id"], let client = clients[id] else { return nil }
        if let secret = client.secret {
            guard form["client_secret"] == secret else { return nil }
            clientAuthentications.append("post")
            return client
        }
        clientAuthentications.append("none")
        return client
    }

    // MARK: - ID tokens

    private struct IDTokenPayload: JWTPayload {
        var iss: String
        var sub: String
        var aud: String
        var exp: Int
        var iat: Int
        var nonce: String?
        var email: String?
        var email_verified: Bool?
        var name: String?
        var given_name: String?
        var family_name: String?
        var preferred_username: String?
        var groups: [String]?

        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    private func idToken(for grant: Grant, nonce: String?, issuer: String) async -> String? {
        guard let profile = await directory.user(withID: grant.userID) else { return nil }
        let claims = claimsOf(profile)
        let issuedAt = Int(now().timeIntervalSince1970)
        var payload = IDTokenPayload(
            iss: issuer,
            sub: profile.id,
            aud: grant.clientID,
            exp: issuedAt + 3600,
            iat: issuedAt,
            nonce: nonce,
            email: claims.email,
            email_verified: claims.emailVerified,
            name: claims.name,
            given_name: claims.givenName,
            family_name: claims.familyName,
            preferred_username: claims.preferredUsername,
            groups: claims.groups
        )
        switch idTokenFault {
        case .wrongIssuer: payload.iss = "https://impostor.example"
        case .wrongAudience: payload.aud = "someone-else"
        case .wrongNonce: payload.nonce = "not-the-nonce"
        case .expired: (payload.iat, payload.exp) = (issuedAt - 7200, issuedAt - 3600)
        case .issuedInTheFuture: (payload.iat, payload.exp) = (issuedAt + 3600, issuedAt + 7200)
        case .unsigned, .hmacWithPublicKey, .unknownKey, .tamperedPayload, nil: break
        }
        do {
            switch idTokenFault {
            case .unsigned:
                return Self.base64URL(#"{"alg":"none","typ":"JWT"}"#) + "." + Self.base64URL(String(decoding: try JSONEncoder().encode(payload), as: UTF8.self))
                    + "."
            case .hmacWithPublicKey:
                let forger = JWTKeyCollection()
                await forger.add(
                    hmac: HMACKey(from: Data(signingKey.publicKey.pemRepresentation.utf8)),
                    digestAlgorithm: .sha256,
                    kid: JWKIdentifier(string: keyID)
                )
                return try await forger.sign(payload, kid: JWKIdentifier(string: keyID))
            case .unknownKey:
                let stranger = JWTKeyCollection()
                await stranger.add(ecdsa: ES256PrivateKey(), kid: JWKIdentifier(string: "not-published"))
                return try await stranger.sign(payload, kid: JWKIdentifier(string: "not-published"))
            case .tamperedPayload:
                let signed = try await keys.sign(payload, kid: JWKIdentifier(string: keyID))
                var parts = signed.split(separator: ".").map(String.init)
                let original = String(decoding: try JSONEncoder().encode(payload), as: UTF8.self)
                parts[1] = Self.base64URL(original.replacingOccurrences(of: profile.id, with: "someone-else"))
                return parts.joined(separator: ".")
            default:
                return try await keys.sign(payload, kid: JWKIdentifier(string: keyID))
            }
        } catch {
            return nil
        }
    }

    /// The standard claims of a LoginRadius-shaped profile.
    struct StandardClaims {
        var email: String?
        var emailVerified: Bool?
        var name: String?
        var givenName: String?
        var familyName: String?
        var preferredUsername: String?
        /// The user's `Roles`, as the `groups` claim.
        var groups: [String]?

        var json: [String: JSONValue] {
            var members: [String: JSONValue] = [:]
            members["email"] = email.map(JSONValue.string)
            members["email_verified"] = emailVerified.map(JSONValue.bool)
            members["name"] = name.map(JSONValue.string)
            members["given_name"] = givenName.map(JSONValue.string)
            members["family_name"] = familyName.map(JSONValue.string)
            members["preferred_username"] = preferredUsername.map(JSONValue.string)
            members["groups"] = groups.map { .array($0.map(JSONValue.string)) }
            return members
        }
    }

    /// The claims of `profile`, read once per profile text (a benchmark signs thousands in for one user).
    private func claimsOf(_ profile: UserProfile) -> StandardClaims {
        if let known = claimsByProfile[profile.json], known.profile.hasSameText(as: profile) { return known.claims }
        let claims = Self.claims(of: profile)
        if claimsByProfile.count >= 1024 { claimsByProfile.removeAll() }
        claimsByProfile[profile.json] = (profile, claims)
        return claims
    }

    static func claims(of profile: UserProfile) -> StandardClaims {
        let attributes = profile.attributes
        return StandardClaims(
            email: profile.email,
            emailVerified: attributes["EmailVerified"].flatMap { if case .bool(let flag) = $0 { flag } else { nil } },
            name: profile.name,
            givenName: attributes["FirstName"]?.stringValue,
            familyName: attributes["LastName"]?.stringValue,
            preferredUsername: attributes["UserName"]?.stringValue,
            groups: attributes["Roles"]?.arrayValue?.compactMap(\.stringValue)
        )
    }

    // MARK: - Userinfo, revocation, logout

    /// `GET /oauth/userinfo` for the bearer token; 401 when it is not a live access token.
    public func userinfo(token: String?) async -> Answer {
        guard let token, let userID = await directory.liveUserID(forToken: token), let profile = await directory.user(withID: userID) else {
            return Answer(
                status: 401,
                body: .object(["error": .string("invalid_token")]),
                headers: [("WWW-Authenticate", #"Bearer error="invalid_token""#)]
            )
        }
        var members = claimsOf(profile).json
        members["sub"] = .string(profile.id)
        return Answer(status: 200, body: .object(members))
    }

    /// `POST /oauth/revoke` (RFC 7009): a refresh token ends its grant and the grant's access
    /// tokens; an access token ends itself. Unknown tokens are answered 200 as well, as §2.2 asks.
    public func revoke(form: [String: String], basic: (id: String, secret: String)?) async -> Answer {
        guard let client = authenticate(form: form, basic: basic) else {
            return .error("invalid_client", status: 401, "client authentication failed")
        }
        guard let token = form["token"] else { return .error("invalid_request", "no token") }
        if let grantID = refreshTokens[token], let grant = grants[grantID], grant.clientID == client.id {
            refreshTokens = refreshTokens.filter { $0.value != grantID }
            grants[grantID] = nil
            for access in grant.accessTokens { await directory.expire(AccessToken(access)) }
        } else {
            await directory.expire(AccessToken(token))
        }
        revocationCount += 1
        return Answer(status: 200, body: .object([:]))
    }

    /// Where `GET /oauth/logout` sends the browser: `post_logout_redirect_uri` when the client
    /// registered it (any loopback URL for the demo clients), else nowhere (a page says goodbye).
    public func logoutRedirect(clientID: String?, postLogoutRedirectURI: String?) -> String? {
        guard let clientID, let client = clients[clientID], let uri = postLogoutRedirectURI, client.accepts(postLogoutRedirectURI: uri) else { return nil }
        return uri
    }

    // MARK: - Helpers

    static func randomToken() -> String {
        Base64URL.encode(SecureRandom.bytes(32))
    }

    static func challenge(for verifier: String) -> String {
        Base64URL.encode(SHA256.hash(data: Data(verifier.utf8)))
    }

    private static func base64URL(_ text: String) -> String {
        Base64URL.encode(Array(text.utf8))
    }
}
