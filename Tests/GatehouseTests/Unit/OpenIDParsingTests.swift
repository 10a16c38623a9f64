import Foundation
import Testing

@testable import Gatehouse

/// The parsers of what an OpenID Connect provider sends: discovery, token answers, ID tokens, userinfo.
@Suite("OpenID Connect answers")
struct OpenIDParsingTests {
    static let issuer = "https://idp.example.com/realms/main"

    static func discovery(_ overrides: [String: JSONValue] = [:], removing: [String] = []) -> Data {
        var members: [String: JSONValue] = [
            "issuer": .string(issuer),
            "authorization_endpoint": .string(issuer + "/auth"),
            "token_endpoint": .string(issuer + "/token"),
            "jwks_uri": .string(issuer + "/certs"),
            "userinfo_endpoint": .string(issuer + "/userinfo"),
            "revocation_endpoint": .string(issuer + "/revoke"),
            "end_session_endpoint": .string(issuer + "/logout"),
            "token_endpoint_auth_methods_supported": .array([.string("client_secret_post")]),
            "code_challenge_methods_supported": .array([.string("plain"), .string("S256")]),
        ]
        for name in removing { members[name] = nil }
        members.merge(overrides) { $1 }
        return JSONValue.object(members).encoded()
    }

    @Test("a discovery document is read: endpoints, auth methods; optional endpoints may be absent")
    func discoveryRead() throws {
        let metadata = try OpenIDProviderMetadata.read(status: 200, body: Self.discovery(), expectedIssuer: Self.issuer)
        #expect(metadata.tokenEndpoint == Self.issuer + "/token")
        #expect(metadata.endSessionEndpoint == Self.issuer + "/logout")
        #expect(metadata.tokenEndpointAuthMethods == ["client_secret_post"])
        let bare = try OpenIDProviderMetadata.read(
            status: 200,
            body: Self.discovery(removing: ["userinfo_endpoint", "revocation_endpoint", "end_session_endpoint", "token_endpoint_auth_methods_supported"]),
            expectedIssuer: Self.issuer
        )
        #expect(bare.userinfoEndpoint == nil && bare.revocationEndpoint == nil && bare.endSessionEndpoint == nil)
        #expect(bare.tokenEndpointAuthMethods == ["client_secret_basic"], "Discovery's default")
    }

    @Test(
        "a discovery document is refused when its issuer differs by anything, it lacks an endpoint, names a non-https one, or has no S256",
        arguments: [
            ("a trailing slash", discovery(["issuer": .string(issuer + "/")]), ProviderError.Kind.misconfigured),
            ("another host", discovery(["issuer": .string("https://evil.example/realms/main")]), .misconfigured),
            ("another case", discovery(["issuer": .string("https://IDP.example.com/realms/main")]), .misconfigured),
            ("no token endpoint", discovery(removing: ["token_endpoint"]), .badResponse),
            ("no jwks_uri", discovery(removing: ["jwks_uri"]), .badResponse),
            ("an http endpoint", discovery(["token_endpoint": .string("http://idp.example.com/token")]), .badResponse),
            ("a relative endpoint", discovery(["jwks_uri": .string("/certs")]), .badResponse),
            // Found by the fuzzer: the scheme's case once slipped past the https check.
            ("an htTPs endpoint", discovery(["authorization_endpoint": .string("htTPs://idp.example.com/auth")]), .badResponse),
            ("a javascript: endpoint", discovery(["authorization_endpoint": .string("javascript:alert(1)")]), .badResponse),
            ("a mistyped member", discovery(["userinfo_endpoint": .integer(5)]), .badResponse),
            ("no S256", discovery(["code_challenge_methods_supported": .array([.string("plain")])]), .misconfigured),
            ("not JSON", Data("<html>".utf8), .badResponse),
            ("an array", Data("[]".utf8), .badResponse),
        ]
    )
    func discoveryRefused(_ name: String, body: Data, kind: ProviderError.Kind) {
        #expect(throws: ProviderError.self, "\(name)") {
            try OpenIDProviderMetadata.read(status: 200, body: body, expectedIssuer: Self.issuer)
        }
        #expect((try? OpenIDProviderMetadata.read(status: 200, body: body, expectedIssuer: Self.issuer)) == nil)
        do {
            _ = try OpenIDProviderMetadata.read(status: 200, body: body, expectedIssuer: Self.issuer)
        } catch {
            #expect(error.kind == kind, "\(name)")
        }
    }

    @Test("an http issuer may have http endpoints (a provider on loopback); errors and 429 are failures")
    func discoveryStatus() throws {
        let local = "http://127.0.0.1:18081"
        let document = JSONValue.object([
            "issuer": .string(local), "authorization_endpoint": .string(local + "/a"), "token_endpoint": .string(local + "/t"),
            "jwks_uri": .string(local + "/k"),
        ]).encoded()
        #expect(try OpenIDProviderMetadata.read(status: 200, body: document, expectedIssuer: local).jwksURI == local + "/k")
        #expect(throws: ProviderError.rateLimited()) { try OpenIDProviderMetadata.read(status: 429, body: document, expectedIssuer: local) }
        #expect((try? OpenIDProviderMetadata.read(status: 503, body: document, expectedIssuer: local)) == nil)
    }

    @Test("a token answer is read; error codes map to what the gateway must do")
    func tokenAnswers() throws {
        let success = try OpenIDTokenResponse.read(
            status: 200,
            body: Data(#"{"access_token":"a.b-c","token_type":"bearer","expires_in":"300","refresh_token":"r1","id_token":"x.y.z"}"#.utf8)
        )
        #expect(success.accessToken.value == "a.b-c")
        #expect(success.refreshToken?.value == "r1")
        #expect(success.idToken == "x.y.z")
        #expect(success.expiresIn == 300)
        let cases: [(Int, String, ProviderError.Kind)] = [
            (400, #"{"error":"invalid_grant","error_description":"Code not valid"}"#, .tokenRejected),
            (401, #"{"error":"invalid_client"}"#, .misconfigured),
            (400, #"{"error":"unauthorized_client"}"#, .misconfigured),
            (400, #"{"error":"invalid_request"}"#, .badResponse),
            (500, "oops", .badResponse),
            (429, "", .rateLimited),
            (200, #"{"access_token":"a","token_type":"mac"}"#, .badResponse),
            (200, #"{"token_type":"Bearer"}"#, .badResponse),
            (200, #"{"access_token":"a b","token_type":"Bearer"}"#, .badResponse),
            (200, #"{"access_token":"a","token_type":"Bearer","refresh_token":"r\u0000"}"#, .badResponse),
            (200, "[]", .badResponse),
        ]
        for (status, body, kind) in cases {
            do {
                _ = try OpenIDTokenResponse.read(status: status, body: Data(body.utf8))
                Issue.record("\(status) \(body) was accepted")
            } catch {
                #expect(error.kind == kind, "\(status) \(body)")
                #expect(!error.reason.contains("Code not valid"), "a provider's own text is not quoted")
            }
        }
    }

    static func jwt(header: String, payload: String, signature: String = "c2ln") -> String {
        "\(Base64URL.encode(Array(header.utf8))).\(Base64URL.encode(Array(payload.utf8))).\(signature)"
    }

    @Test("a compact JWT is split and its header read; none, HMAC, JWE, critical extensions and garbage are refused")
    func compactJWT() throws {
        let token = Self.jwt(header: #"{"alg":"RS256","kid":"k1","typ":"JWT"}"#, payload: #"{"sub":"u"}"#)
        let parsed = try CompactJWT(token)
        #expect(parsed.header.alg == "RS256" && parsed.header.kid == "k1")
        #expect(parsed.payload == Data(#"{"sub":"u"}"#.utf8))
        let refused = [
            Self.jwt(header: #"{"alg":"none"}"#, payload: "{}", signature: ""),
            Self.jwt(header: #"{"alg":"none"}"#, payload: "{}"),
            Self.jwt(header: #"{"alg":"HS256"}"#, payload: "{}"),
            Self.jwt(header: #"{"alg":"hs256"}"#, payload: "{}"),
            Self.jwt(header: #"{"alg":"RS256","crit":["exp"]}"#, payload: "{}"),
            Self.jwt(header: #"{"kid":"k1"}"#, payload: "{}"),
            "a.b.c.d.e", "a.b", "", "...", "!!.??.**",
            Self.jwt(header: "not json", payload: "{}"),
            String(repeating: "a", count: 20_000) + ".b.c",
        ]
        for candidate in refused {
            #expect(throws: ProviderError.self, "\(candidate.prefix(40))") { try CompactJWT(candidate) }
        }
    }

    static func claims(_ overrides: [String: JSONValue] = [:], removing: [String] = []) -> Data {
        var members: [String: JSONValue] = [
            "iss": .string(issuer), "sub": .string("user-1"), "aud": .array([.string("gatehouse")]),
            "exp": .integer(1_800_000_600), "iat": .number(1_800_000_000.25), "nonce": .string("n-1"),
        ]
        for name in removing { members[name] = nil }
        members.merge(overrides) { $1 }
        return JSONValue.object(members).encoded()
    }

    @Test("ID token claims pass when iss, aud, azp, exp, iat and nonce are right")
    func claimsPass() throws {
        let now = Date(timeIntervalSince1970: 1_800_000_100)
        let expectations = IDTokenExpectations(issuer: Self.issuer, clientID: "gatehouse", nonce: "n-1")
        try expectations.check(IDTokenClaims(payload: Self.claims()), now: now)
        try expectations.check(IDTokenClaims(payload: Self.claims(["aud": .string("gatehouse")])), now: now)
        try expectations.check(
            IDTokenClaims(payload: Self.claims(["aud": .array([.string("gatehouse"), .string("api")]), "azp": .string("gatehouse")])),
            now: now
        )
        // Within the leeway on either side.
        try expectations.check(IDTokenClaims(payload: Self.claims()), now: Date(timeIntervalSince1970: 1_800_000_650))
        try expectations.check(IDTokenClaims(payload: Self.claims(["iat": .integer(1_800_000_150)])), now: now)
        // A refresh's ID token: no nonce expected, the same subject.
        try IDTokenExpectations(issuer: Self.issuer, clientID: "gatehouse", nonce: nil, subject: "user-1")
            .check(IDTokenClaims(payload: Self.claims(removing: ["nonce"])), now: now)
    }

    @Test(
        "ID token claims are refused for each wrong claim",
        arguments: [
            ("iss", claims(["iss": .string("https://evil.example")])),
            ("iss with a slash", claims(["iss": .string(issuer + "/")])),
            ("aud", claims(["aud": .string("someone-else")])),
            ("several aud without azp", claims(["aud": .array([.string("gatehouse"), .string("api")])])),
            ("azp", claims(["azp": .string("someone-else")])),
            ("exp", claims(["exp": .integer(1_800_000_000)])),
            ("iat", claims(["iat": .integer(1_800_000_300)])),
            ("nonce", claims(["nonce": .string("n-2")])),
            ("no nonce", claims(removing: ["nonce"])),
            ("empty sub", claims(["sub": .string("")])),
        ]
    )
    func claimsRefused(_ name: String, payload: Data) throws {
        let claims = try IDTokenClaims(payload: payload)
        let expectations = IDTokenExpectations(issuer: Self.issuer, clientID: "gatehouse", nonce: "n-1")
        #expect(throws: ProviderError.self, "\(name)") { try expectations.check(claims, now: Date(timeIntervalSince1970: 1_800_000_100)) }
    }

    @Test("a refresh's ID token for another subject is refused; claims missing or mistyped do not decode")
    func claimsShape() {
        let refresh = IDTokenExpectations(issuer: Self.issuer, clientID: "gatehouse", nonce: nil, subject: "user-1")
        #expect(throws: ProviderError.self) {
            try refresh.check(IDTokenClaims(payload: Self.claims(["sub": .string("user-2")])), now: Date(timeIntervalSince1970: 1_800_000_100))
        }
        for payload in [Self.claims(removing: ["exp"]), Self.claims(["sub": .integer(7)]), Self.claims(["aud": .integer(1)]), Data("[]".utf8)] {
            #expect(throws: ProviderError.self) { try IDTokenClaims(payload: payload) }
        }
    }

    @Test("the profile is sub, email and name from the claims, with userinfo laid over them")
    func profile() throws {
        let claims = Data(#"{"sub":"u1","email":"a@example.com","given_name":"Ada","family_name":"Lovelace","aud":"g","groups":["x"]}"#.utf8)
        let fromClaims = try OpenIDProfile.make(subject: "u1", claims: claims, userinfo: nil)
        #expect(fromClaims.id == "u1" && fromClaims.email == "a@example.com" && fromClaims.name == "Ada Lovelace")
        #expect(fromClaims.json == claims, "the claims' text is kept as it came")
        let userinfo = try OpenIDProfile.readUserInfo(
            status: 200,
            body: Data(#"{"sub":"u1","email":"ada@example.org","name":"Countess","groups":["y"]}"#.utf8),
            subject: "u1"
        )
        let merged = try OpenIDProfile.make(subject: "u1", claims: claims, userinfo: userinfo)
        #expect(merged.email == "ada@example.org" && merged.name == "Countess")
        #expect(merged.attributes["groups"] == .array([.string("y")]))
        #expect(merged.attributes["aud"] == .string("g"), "claims userinfo does not mention stay")
        let onlyUsername = try OpenIDProfile.make(subject: "u2", claims: Data(#"{"sub":"u2","preferred_username":"ada","email":5}"#.utf8), userinfo: nil)
        #expect(onlyUsername.name == "ada" && onlyUsername.email == nil)
        let mistyped = try OpenIDProfile.make(subject: "u1", claims: claims, userinfo: Data(#"{"sub":"u1","email":7,"name":null}"#.utf8))
        #expect(mistyped.email == nil && mistyped.name == "Ada Lovelace", "a mistyped userinfo member reads as absent")
        #expect(mistyped.attributes["email"] == .integer(7), "and is kept as the provider sent it")
    }

    @Test("userinfo about another subject, a refused token, or garbage is an error")
    func userinfoRefused() {
        let cases: [(Int, String, ProviderError.Kind)] = [
            (200, #"{"sub":"u2"}"#, .badResponse), (200, #"{"email":"x"}"#, .badResponse), (200, "not json", .badResponse),
            (401, "", .tokenRejected), (403, "", .tokenRejected), (429, "", .rateLimited), (500, "", .badResponse),
        ]
        for (status, body, kind) in cases {
            do {
                _ = try OpenIDProfile.readUserInfo(status: status, body: Data(body.utf8), subject: "u1")
                Issue.record("\(status) \(body) was accepted")
            } catch {
                #expect(error.kind == kind, "\(status) \(body)")
            }
        }
    }

    @Test("a JWKS gives its signing keys: RSA and EC for signatures, named; keys for encryption, HMAC or other types are left out")
    func keySet() throws {
        let body = JSONValue.object([
            "keys": .array([
                .object(["kty": .string("RSA"), "kid": .string("k1"), "alg": .string("RS256"), "use": .string("sig"), "n": .string("n"), "e": .string("AQAB")]),
                .object(["kty": .string("RSA"), "kid": .string("enc"), "use": .string("enc"), "n": .string("n"), "e": .string("AQAB")]),
                .object(["kty": .string("oct"), "kid": .string("secret"), "k": .string("c2VjcmV0")]),
                .object(["kty": .string("RSA"), "kid": .string("hmac"), "alg": .string("HS256"), "n": .string("n"), "e": .string("AQAB")]),
                .object(["kty": .string("EC"), "crv": .string("P-256"), "x": .string("x"), "y": .string("y")]),
                .object(["kty": .string("RSA"), "kid": .string("k1"), "n": .string("other"), "e": .string("AQAB")]),
                .string("not a key"),
            ])
        ]).encoded()
        let keys = try JSONWebKeySet.signingKeys(in: body)
        #expect(keys.map(\.keyID) == ["k1", "gatehouse-unnamed-key-4"], "the first k1 only; the unnamed EC key named by its place")
        #expect(keys.map(\.algorithm) == ["RS256", nil])
        #expect((try JSONValue(parsing: keys[1].json))["kid"] == .string("gatehouse-unnamed-key-4"))
        for refused in [Data("{}".utf8), Data(#"{"keys":[]}"#.utf8), Data(#"{"keys":[{"kty":"oct"}]}"#.utf8), Data("[]".utf8)] {
            #expect(throws: ProviderError.self) { try JSONWebKeySet.signingKeys(in: refused) }
        }
    }

    @Test("credentials store and read back whole; the bare tokens of the first release still read; garbage does not")
    func credentialStorage() {
        let full = Credentials(
            accessToken: AccessToken("a"),
            refreshToken: RefreshToken("r"),
            idToken: IDToken("i.d.t"),
            expiresAt: Date(timeIntervalSince1970: 1_800_000_000.5)
        )
        #expect(Credentials(storedRepresentation: full.storedRepresentation) == full)
        let bare = Credentials(accessToken: AccessToken("only"))
        #expect(Credentials(storedRepresentation: bare.storedRepresentation) == bare)
        #expect(Credentials(storedRepresentation: Data("0b1f7d2e-legacy-token".utf8)) == Credentials(accessToken: AccessToken("0b1f7d2e-legacy-token")))
        #expect(Credentials(storedRepresentation: Data()) == nil)
        var truncated = full.storedRepresentation
        truncated.removeLast()
        #expect(Credentials(storedRepresentation: truncated) == nil)
        #expect("\(full)".contains("redacted") && !"\(full)".contains("i.d.t"))
    }
}
