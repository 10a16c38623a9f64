import Foundation
import NIOFoundationCompat
import NIOHTTP1

/// Any standard OpenID Connect provider (contract §7): the authorization code flow with PKCE
/// (S256, always), `state` and `nonce`; ID tokens verified with the provider's keys; sessions
/// confirmed again with the refresh token (else at userinfo); RFC 7009 revocation and the
/// provider's end-session page at logout.
///
/// Every call goes through a ``ProviderTransport``, so it fails closed as the LoginRadius provider
/// does; a refresh is never repeated, since a provider that rotates refresh tokens would take a
/// second use for a replay.
public struct OpenIDConnectProvider: IdentityProvider {
    /// The client registration and where the provider is.
    public struct Configuration: Sendable {
        /// The issuer, compared exactly with the discovery document's and every ID token's `iss`.
        public var issuer: String
        /// Where the discovery document is; by default `{issuer}/.well-known/openid-configuration`.
        public var discoveryURL: String
        public var clientID: String
        /// `nil` for a public client (PKCE alone).
        public var clientSecret: String?
        /// The scopes asked for; `openid` is always among them.
        public var scopes: [String]
        /// How far the gateway's and the provider's clocks may disagree when times are checked.
        public var clockLeeway: TimeInterval

        public init(
            issuer: String,
            discoveryURL: String? = nil,
            clientID: String,
            clientSecret: String? = nil,
            scopes: [String] = ["openid", "email", "profile"],
            clockLeeway: TimeInterval = 60
        ) {
            self.issuer = issuer
            self.discoveryURL = discoveryURL ?? Self.defaultDiscoveryURL(issuer: issuer)
            self.clientID = clientID
            self.clientSecret = clientSecret
            self.scopes = scopes.contains("openid") ? scopes : ["openid"] + scopes
            self.clockLeeway = clockLeeway
        }

        /// `{issuer}/.well-known/openid-configuration`, with one `/` between them (Discovery §4).
        public static func defaultDiscoveryURL(issuer: String) -> String {
            (issuer.hasSuffix("/") ? String(issuer.dropLast()) : issuer) + "/.well-known/openid-configuration"
        }
    }

    private let configuration: Configuration
    private let transport: ProviderTransport
    private let discovery: OpenIDDiscovery
    private let keys: OpenIDSigningKeys
    private let now: @Sendable () -> Date

    public init(configuration: Configuration, transport: ProviderTransport, now: @escaping @Sendable () -> Date = Date.init) {
        self.configuration = configuration
        self.transport = transport
        self.discovery = OpenIDDiscovery(url: configuration.discoveryURL, issuer: configuration.issuer, transport: transport)
        self.keys = OpenIDSigningKeys(transport: transport)
        self.now = now
    }

    /// The names of this provider's values in ``LoginSecrets``.
    enum Secret {
        static let nonce = "nonce"
        static let codeVerifier = "code_verifier"
    }

    // MARK: - Login

    public func beginLogin(_ start: LoginStart) async throws(ProviderError) -> LoginRedirect {
        let metadata = try await discovery.metadata()
        let verifier = PKCE.newVerifier()
        let nonce = Base64URL.encode(SecureRandom.bytes(32))
        var query = [
            ("response_type", "code"), ("client_id", configuration.clientID), ("redirect_uri", start.callbackURL),
            ("scope", configuration.scopes.joined(separator: " ")), ("state", start.state), ("nonce", nonce),
            ("code_challenge", PKCE.challenge(for: verifier)), ("code_challenge_method", "S256"),
        ]
        if start.intent == .register {
            query.append(("prompt", "create"))
        }
        return LoginRedirect(
            url: PercentEncoding.appendingQuery(query, to: metadata.authorizationEndpoint),
            secrets: LoginSecrets([Secret.nonce: nonce, Secret.codeVerifier: verifier])
        )
    }

    public func completeLogin(_ completion: LoginCompletion) async throws(ProviderError) -> SignIn {
        let parameters = completion.parameters
        if let error = parameters.values("error").first {
            throw .loginDenied(reason: "the provider sent the browser back with error \(Self.printable(error))")
        }
        // RFC 9207: a provider that names itself in the callback must name this issuer.
        if let issuer = parameters.values("iss").first, issuer != configuration.issuer {
            throw .tokenRejected(reason: "the callback comes from another issuer (iss)")
        }
        let codes = parameters.values("code")
        guard let code = codes.first, !code.isEmpty else { throw .missingCredential("code") }
        guard codes.count == 1, AccessToken.isWellFormed(code, maximumLength: 4096) || Self.isPrintable(code, maximumLength: 4096) else {
            throw .malformedCredential("code")
        }
        guard let verifier = completion.secrets[Secret.codeVerifier], let nonce = completion.secrets[Secret.nonce] else {
            throw .tokenRejected(reason: "the login attempt carries no PKCE verifier or nonce")
        }
        let metadata = try await discovery.metadata()
        let tokens = try await requestTokens(
            [("grant_type", "authorization_code"), ("code", code), ("redirect_uri", completion.callbackURL), ("code_verifier", verifier)],
            metadata: metadata,
            repeatable: true
        )
        guard let idToken = tokens.idToken else { throw .badResponse(reason: "the token endpoint's answer has no id_token") }
        let (claims, payload) = try await verifiedClaims(idToken, metadata: metadata, nonce: nonce, subject: nil)
        let userinfo = try await self.userinfo(tokens.accessToken, subject: claims.subject, metadata: metadata)
        return SignIn(
            credentials: credentials(from: tokens, idToken: idToken, previous: nil),
            profile: try OpenIDProfile.make(subject: claims.subject, claims: payload, userinfo: userinfo)
        )
    }

    // MARK: - Revalidation

    public func revalidate(_ credentials: Credentials, current: UserProfile) async throws(ProviderError) -> Revalidation {
        let metadata = try await discovery.metadata()
        guard let refreshToken = credentials.refreshToken else {
            guard metadata.userinfoEndpoint != nil else {
                // Nothing to ask: the session holds while its access token does.
                if let expiresAt = credentials.expiresAt, expiresAt <= now() {
                    throw .tokenRejected(reason: "the access token has expired and the provider offers no way to renew or check it")
                }
                return Revalidation(profile: current)
            }
            let userinfo = try await self.userinfo(credentials.accessToken, subject: current.id, metadata: metadata)
            return Revalidation(profile: try OpenIDProfile.make(subject: current.id, claims: current.json, userinfo: userinfo))
        }
        let tokens = try await requestTokens(
            [("grant_type", "refresh_token"), ("refresh_token", refreshToken.value)],
            metadata: metadata,
            repeatable: false
        )
        var claims = current.json
        if let idToken = tokens.idToken {
            claims = try await verifiedClaims(idToken, metadata: metadata, nonce: nil, subject: current.id).payload
        }
        let userinfo = try await self.userinfo(tokens.accessToken, subject: current.id, metadata: metadata)
        return Revalidation(
            profile: try OpenIDProfile.make(subject: current.id, claims: claims, userinfo: userinfo),
            credentials: self.credentials(from: tokens, idToken: tokens.idToken, previous: credentials)
        )
    }

    // MARK: - Logout

    public func endSession(_ credentials: Credentials, postLogoutURL: String) async -> SessionEnd {
        let metadata: OpenIDProviderMetadata
        do {
            metadata = try await discovery.metadata()
        } catch {
            return SessionEnd(revocation: .failed(error))
        }
        var browserURL: String?
        if let endpoint = metadata.endSessionEndpoint {
            var query = [("client_id", configuration.clientID), ("post_logout_redirect_uri", postLogoutURL)]
            if let idToken = credentials.idToken {
                // The one token that may appear in a URL Gatehouse builds: end-session requires it.
                query.insert(("id_token_hint", idToken.value), at: 0)
            }
            browserURL = PercentEncoding.appendingQuery(query, to: endpoint)
        }
        guard let endpoint = metadata.revocationEndpoint else {
            return SessionEnd(revocation: .unsupported, browserURL: browserURL)
        }
        var form = [("token", credentials.accessToken.value), ("token_type_hint", "access_token")]
        if let refresh = credentials.refreshToken {
            // Revoking the refresh token ends the grant, and with it (RFC 7009 §2.1) its access tokens.
            form = [("token", refresh.value), ("token_type_hint", "refresh_token")]
        }
        var headers: HTTPHeaders = ["Accept": "application/json"]
        authentication(for: metadata.revocationEndpointAuthMethods ?? metadata.tokenEndpointAuthMethods).apply(to: &form, headers: &headers)
        do {
            let answer = try await transport.postForm(endpoint, form: form, headers: headers, repeatable: true)
            guard (200..<300).contains(answer.status) else {
                return SessionEnd(
                    revocation: .failed(OpenIDTokenResponse.failure(status: answer.status, body: Data(buffer: answer.body))),
                    browserURL: browserURL
                )
            }
            return SessionEnd(revocation: .revoked, browserURL: browserURL)
        } catch {
            return SessionEnd(revocation: .failed(error), browserURL: browserURL)
        }
    }

    // MARK: - Calls

    private func authentication(for supported: [String]) -> ClientAuthentication {
        ClientAuthentication.choose(clientID: configuration.clientID, secret: configuration.clientSecret, supported: supported)
    }

    private func requestTokens(_ grant: [(String, String)], metadata: OpenIDProviderMetadata, repeatable: Bool) async throws(ProviderError)
        -> OpenIDTokenResponse
    {
        var form = grant
        var headers: HTTPHeaders = ["Accept": "application/json"]
        authentication(for: metadata.tokenEndpointAuthMethods).apply(to: &form, headers: &headers)
        let answer = try await transport.postForm(metadata.tokenEndpoint, form: form, headers: headers, repeatable: repeatable)
        return try OpenIDTokenResponse.read(status: answer.status, body: Data(buffer: answer.body))
    }

    /// The ID token's claims (and their text) once its signature and claims check out.
    private func verifiedClaims(_ token: String, metadata: OpenIDProviderMetadata, nonce: String?, subject: String?) async throws(ProviderError)
        -> (IDTokenClaims, payload: Data)
    {
        let jwt = try CompactJWT(token)
        let claims = try IDTokenClaims(payload: jwt.payload)
        try await keys.verify(token, header: jwt.header, jwksURI: metadata.jwksURI)
        let expectations = IDTokenExpectations(
            issuer: configuration.issuer,
            clientID: configuration.clientID,
            nonce: nonce,
            subject: subject,
            leeway: configuration.clockLeeway
        )
        try expectations.check(claims, now: now())
        return (claims, jwt.payload)
    }

    /// Userinfo's object for `subject`, or `nil` when the provider has no userinfo endpoint.
    private func userinfo(_ token: AccessToken, subject: String, metadata: OpenIDProviderMetadata) async throws(ProviderError) -> Data? {
        guard let endpoint = metadata.userinfoEndpoint else { return nil }
        let answer = try await transport.get(endpoint, headers: ["Authorization": "Bearer \(token.value)", "Accept": "application/json"])
        return try OpenIDProfile.readUserInfo(status: answer.status, body: Data(buffer: answer.body), subject: subject)
    }

    private func credentials(from tokens: OpenIDTokenResponse, idToken: String?, previous: Credentials?) -> Credentials {
        Credentials(
            accessToken: tokens.accessToken,
            // A refresh that brings no new refresh token leaves the old one in force (RFC 6749 §6).
            refreshToken: tokens.refreshToken ?? previous?.refreshToken,
            idToken: idToken.map(IDToken.init) ?? previous?.idToken,
            expiresAt: tokens.expiresIn.map { now().addingTimeInterval($0) }
        )
    }

    private static func isPrintable(_ value: String, maximumLength: Int) -> Bool {
        value.utf8.count <= maximumLength && value.utf8.allSatisfy { (0x21...0x7E).contains($0) }
    }

    /// A provider's error code as it may appear in a log line: its printable ASCII, at most 64 characters.
    private static func printable(_ value: String) -> String {
        String(String(value.unicodeScalars.filter { $0.isASCII && $0.value > 0x20 && $0.value < 0x7F }).prefix(64))
    }
}
