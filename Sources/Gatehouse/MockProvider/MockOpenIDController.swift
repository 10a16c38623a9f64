import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The mock provider's OpenID Connect endpoints over HTTP, beside its LoginRadius API: discovery,
/// authorize (the same user-picking page), token, JWKS, userinfo, revocation and end session.
///
/// The issuer is the mock's base URL: fixed when the mock was told it, else as each request
/// reached it (`http://{Host}`), so the mock is its own issuer on whatever port it runs. The directory's fault, when one is set, answers the
/// machine-to-machine endpoints (discovery, token, JWKS, userinfo, revocation) as it does the
/// LoginRadius API.
public struct MockOpenIDController<Context: RequestContext>: Sendable {
    let provider: MockOpenIDProvider

    public init(provider: MockOpenIDProvider) {
        self.provider = provider
    }

    public func addRoutes(to group: RouterGroup<Context>) {
        group.get(".well-known/openid-configuration") { request, _ in
            let issuer = await issuer(of: request)
            return try await faulted { .json(await provider.discoveryDocument(issuer: issuer)) }
        }
        group.get("oauth/jwks") { _, _ in try await faulted { .json(await provider.keySet()) } }
        group.get("oauth/authorize", use: authorizationPage)
        group.post("oauth/authorize", use: submitAuthorization)
        group.post("oauth/token") { request, _ in
            let (form, issuer) = (try await Self.form(of: request), await issuer(of: request))
            return try await faulted { await provider.token(form: form, basic: Self.basicCredentials(in: request.headers), issuer: issuer).response }
        }
        group.get("oauth/userinfo") { request, _ in
            try await faulted { await provider.userinfo(token: MockProviderController<Context>.bearerToken(in: request.headers)).response }
        }
        group.post("oauth/revoke") { request, _ in
            let form = try await Self.form(of: request)
            return try await faulted { await provider.revoke(form: form, basic: Self.basicCredentials(in: request.headers)).response }
        }
        group.get("oauth/logout", use: endSession)
    }

    // MARK: - Authorization

    /// The parameters of an authorization request that the page carries through its forms.
    private static var carried: [String] { ["client_id", "redirect_uri", "scope", "state", "nonce", "code_challenge", "code_challenge_method", "prompt"] }

    @Sendable func authorizationPage(_ request: Request, context: Context) async throws -> Response {
        var parameters: [String: String] = [:]
        for name in Self.carried { parameters[name] = request.uri.queryParameters.get(name) }
        let issuer = await issuer(of: request)
        if let refusal = try await refusal(of: parameters, responseType: request.uri.queryParameters.get("response_type"), issuer: issuer) {
            return refusal
        }
        let page = MockLoginPage(
            intent: parameters["prompt"] == "create" ? .register : .login,
            hiddenFields: Self.carried.compactMap { name in parameters[name].map { (name, $0) } },
            formAction: request.uri.path,
            users: await provider.directory.users,
            offersDenial: true
        )
        return page.page.response()
    }

    @Sendable func submitAuthorization(_ request: Request, context: Context) async throws -> Response {
        let form = try await Self.form(of: request)
        let issuer = await issuer(of: request)
        if let refusal = try await refusal(of: form, responseType: "code", issuer: issuer) { return refusal }
        // Checked by `refusal`: the client and its redirect URI are known, PKCE is there.
        let (clientID, redirectURI, challenge) = (form["client_id"] ?? "", form["redirect_uri"] ?? "", form["code_challenge"] ?? "")
        let userID: String
        switch form["action"] {
        case "deny":
            return Self.redirect(to: redirectURI, ["error": "access_denied", "state": form["state"], "iss": issuer])
        case "register":
            let email = (form["email"] ?? "").trimmingCharacters(in: .whitespaces)
            let firstName = (form["first_name"] ?? "").trimmingCharacters(in: .whitespaces)
            guard !firstName.isEmpty, email.contains("@"), email.count <= 254, firstName.count <= 100 else {
                return Self.badRequest("Registration needs a first name and an email address.")
            }
            let lastName = String((form["last_name"] ?? "").trimmingCharacters(in: .whitespaces).prefix(100))
            guard let user = await provider.directory.register(firstName: firstName, lastName: lastName, email: email) else {
                return Self.badRequest("The mock has registered as many users as it keeps; restart it to begin again.")
            }
            userID = user.id
        default:
            guard let uid = form["uid"], await provider.directory.user(withID: uid) != nil else { return Self.badRequest("There is no such user.") }
            userID = uid
        }
        let code = await provider.authorize(
            clientID: clientID,
            redirectURI: redirectURI,
            codeChallenge: challenge,
            nonce: form["nonce"],
            scope: form["scope"] ?? "openid",
            userID: userID
        )
        return Self.redirect(to: redirectURI, ["code": code, "state": form["state"], "iss": issuer])
    }

    /// The answer to an authorization request the mock will not serve: a page when the client or
    /// its redirect URI is unknown (nothing may be sent there), else the error sent back to it.
    private func refusal(of parameters: [String: String], responseType: String?, issuer: String) async throws -> Response? {
        if let problem = await provider.checkClient(parameters["client_id"], redirectURI: parameters["redirect_uri"]) {
            return Self.badRequest("This authorization request cannot be served: \(problem).")
        }
        let redirectURI = parameters["redirect_uri"] ?? ""
        guard responseType == "code" else {
            return Self.redirect(to: redirectURI, ["error": "unsupported_response_type", "state": parameters["state"], "iss": issuer])
        }
        guard parameters["code_challenge_method"] == "S256", parameters["code_challenge"]?.isEmpty == false else {
            return Self.redirect(to: redirectURI, ["error": "invalid_request", "state": parameters["state"], "iss": issuer])
        }
        return nil
    }

    // MARK: - End session

    @Sendable func endSession(_ request: Request, context: Context) async throws -> Response {
        let query = request.uri.queryParameters
        if let target = await provider.logoutRedirect(clientID: query.get("client_id"), postLogoutRedirectURI: query.get("post_logout_redirect_uri")) {
            return Self.redirect(to: target, ["state": query.get("state")])
        }
        return HTMLPage(title: "Mock identity provider", body: "<h1>Signed out</h1><p>You are signed out of the mock identity provider.</p>").response()
    }

    // MARK: - Helpers

    /// Runs `answer` unless the directory's fault answers instead.
    private func faulted(_ answer: () async throws -> Response) async throws -> Response {
        if let fault = await provider.directory.receiveRequest(), let response = try await MockProviderController<Context>.respond(to: fault) {
            return response
        }
        return try await answer()
    }

    private func issuer(of request: Request) async -> String {
        await provider.fixedIssuer ?? "http://" + (request.head.authority ?? "127.0.0.1")
    }

    static func form(of request: Request) async throws -> [String: String] {
        let body = try await request.body.collect(upTo: 64 * 1024)
        var form: [String: String] = [:]
        for pair in String(buffer: body).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let decode = { (text: Substring) in text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? "" }
            form[decode(parts[0])] = parts.count > 1 ? decode(parts[1]) : ""
        }
        return form
    }

    /// `Authorization: Basic` credentials, each part form-decoded (RFC 6749 §2.3.1).
    static func basicCredentials(in headers: HTTPFields) -> (id: String, secret: String)? {
        guard let authorization = headers[.authorization], authorization.lowercased().hasPrefix("basic "),
            let decoded = Data(base64Encoded: String(authorization.dropFirst(6))).map({ String(decoding: $0, as: UTF8.self) }),
            let colon = decoded.firstIndex(of: ":")
        else { return nil }
        let id = decoded[..<colon].removingPercentEncoding ?? ""
        let secret = decoded[decoded.index(after: colon)...].removingPercentEncoding ?? ""
        return (id, secret)
    }

    private static func redirect(to uri: String, _ parameters: [String: String?]) -> Response {
        let items = ["code", "error", "state", "iss"].compactMap { name in parameters[name].flatMap { $0 }.map { (name, $0) } }
        let location = items.isEmpty ? uri : PercentEncoding.appendingQuery(items, to: uri)
        return Response(status: .found, headers: [.location: location, .cacheControl: "no-store"])
    }

    private static func badRequest(_ message: String) -> Response {
        HTMLPage(title: "Mock identity provider", body: "<h1>Bad request</h1><p>\(HTMLPage.escape(message))</p>").response(status: .badRequest)
    }
}

extension MockOpenIDProvider.Answer {
    var response: Response {
        var fields: HTTPFields = [.contentType: "application/json; charset=utf-8"]
        for (name, value) in headers {
            if let name = HTTPField.Name(name) { fields[name] = value }
        }
        return Response(status: .init(code: status), headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: body.encoded())))
    }
}

extension Response {
    /// A 200 JSON answer.
    fileprivate static func json(_ value: JSONValue) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(bytes: value.encoded())))
    }
}
