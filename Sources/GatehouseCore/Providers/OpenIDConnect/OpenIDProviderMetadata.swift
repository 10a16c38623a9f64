import Foundation

/// What an OpenID Connect provider's discovery document (`/.well-known/openid-configuration`)
/// says about it: the endpoints Gatehouse uses and the methods they accept.
public struct OpenIDProviderMetadata: Sendable, Equatable {
    public var issuer: String
    public var authorizationEndpoint: String
    public var tokenEndpoint: String
    public var jwksURI: String
    public var userinfoEndpoint: String?
    public var revocationEndpoint: String?
    public var endSessionEndpoint: String?
    /// `token_endpoint_auth_methods_supported`; OpenID Connect Discovery's default is
    /// `client_secret_basic` alone.
    public var tokenEndpointAuthMethods: [String]
    /// `revocation_endpoint_auth_methods_supported`, when the document names them.
    public var revocationEndpointAuthMethods: [String]?

    public init(
        issuer: String,
        authorizationEndpoint: String,
        tokenEndpoint: String,
        jwksURI: String,
        userinfoEndpoint: String? = nil,
        revocationEndpoint: String? = nil,
        endSessionEndpoint: String? = nil,
        tokenEndpointAuthMethods: [String] = ["client_secret_basic"],
        revocationEndpointAuthMethods: [String]? = nil
    ) {
        self.issuer = issuer
        self.authorizationEndpoint = authorizationEndpoint
        self.tokenEndpoint = tokenEndpoint
        self.jwksURI = jwksURI
        self.userinfoEndpoint = userinfoEndpoint
        self.revocationEndpoint = revocationEndpoint
        self.endSessionEndpoint = endSessionEndpoint
        self.tokenEndpointAuthMethods = tokenEndpointAuthMethods
        self.revocationEndpointAuthMethods = revocationEndpointAuthMethods
    }
}

extension OpenIDProviderMetadata {
    /// Reads a discovery answer, refusing a document that does not name `expectedIssuer` exactly
    /// (OpenID Connect Discovery §4.3), lacks an endpoint Gatehouse needs, names one that is not
    /// an absolute http(s) URL (https whenever the issuer is), or offers no PKCE with S256.
    public static func read(status: Int, body: Data, expectedIssuer: String) throws(ProviderError) -> OpenIDProviderMetadata {
        guard (200..<300).contains(status) else {
            throw status == 429 ? .rateLimited() : .badResponse(reason: "the provider's discovery document answered HTTP \(status)")
        }
        guard let document = try? JSONDecoder().decode(Document.self, from: body) else {
            throw .badResponse(reason: "the provider's discovery document is not a JSON object with the members OpenID Connect requires")
        }
        guard document.issuer == expectedIssuer else {
            throw .misconfigured(
                reason: "the discovery document names the issuer \"\(document.issuer.prefix(200))\", not the configured \"\(expectedIssuer)\""
            )
        }
        let secure = expectedIssuer.lowercased().hasPrefix("https://")
        let endpoints = [
            ("authorization_endpoint", document.authorization_endpoint), ("token_endpoint", document.token_endpoint),
            ("jwks_uri", document.jwks_uri), ("userinfo_endpoint", document.userinfo_endpoint),
            ("revocation_endpoint", document.revocation_endpoint), ("end_session_endpoint", document.end_session_endpoint),
        ]
        for case (let name, let url?) in endpoints where !Self.isEndpoint(url, secure: secure) {
            throw .badResponse(reason: "the discovery document's \(name) is not an absolute \(secure ? "https" : "http(s)") URL")
        }
        if let methods = document.code_challenge_methods_supported, !methods.contains("S256") {
            throw .misconfigured(reason: "the provider does not offer PKCE with S256 (code_challenge_methods_supported)")
        }
        return OpenIDProviderMetadata(
            issuer: document.issuer,
            authorizationEndpoint: document.authorization_endpoint,
            tokenEndpoint: document.token_endpoint,
            jwksURI: document.jwks_uri,
            userinfoEndpoint: document.userinfo_endpoint,
            revocationEndpoint: document.revocation_endpoint,
            endSessionEndpoint: document.end_session_endpoint,
            tokenEndpointAuthMethods: document.token_endpoint_auth_methods_supported ?? ["client_secret_basic"],
            revocationEndpointAuthMethods: document.revocation_endpoint_auth_methods_supported
        )
    }

    /// Whether `candidate` is an absolute URL Gatehouse will call: `https` (or `http` when the
    /// issuer is), written in lower case as every provider writes it, with a host.
    private static func isEndpoint(_ candidate: String, secure: Bool) -> Bool {
        guard candidate.utf8.count <= 2048, candidate.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }),
            let url = URLComponents(string: candidate), let scheme = url.scheme, url.host?.isEmpty == false,
            url.fragment == nil, url.user == nil
        else { return false }
        return scheme == "https" || (!secure && scheme == "http")
    }

    /// The members read, under their names in the document.
    private struct Document: Decodable {
        let issuer: String
        let authorization_endpoint: String
        let token_endpoint: String
        let jwks_uri: String
        let userinfo_endpoint: String?
        let revocation_endpoint: String?
        let end_session_endpoint: String?
        let token_endpoint_auth_methods_supported: [String]?
        let revocation_endpoint_auth_methods_supported: [String]?
        let code_challenge_methods_supported: [String]?
    }
}
