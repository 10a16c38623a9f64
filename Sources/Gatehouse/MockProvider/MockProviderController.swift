import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The mock provider over HTTP: LoginRadius's hosted page and the API paths Gatehouse calls.
///
/// Mounted on its own server by `gatehouse mock-idp` and `gatehouse demo`, or under a prefix of the
/// gateway itself when `provider.type` is `mock`.
public struct MockProviderController<Context: RequestContext>: Sendable {
    let directory: MockDirectory
    /// The only origin the hosted page sends tokens to (the gateway's own, when mounted in it);
    /// `nil` for any http(s) URL, as the standalone mock must serve gateways on any port.
    let returnOrigin: URL?

    /// - Parameter returnOrigin: where `return_url`s must point (scheme, host and port compared).
    public init(directory: MockDirectory, returnOrigin: URL? = nil) {
        self.directory = directory
        self.returnOrigin = returnOrigin
    }

    /// Adds `auth.aspx` and `identity/v2/auth/...` below `group`.
    public func addRoutes(to group: RouterGroup<Context>) {
        group.get("auth.aspx", use: hostedPage)
        group.post("auth.aspx", use: submitHostedPage)
        group.get("identity/v2/auth/account") { request, _ in try await answer(request, .profile) }
        group.get("identity/v2/auth/access_token/invalidate") { request, _ in try await answer(request, .invalidate) }
        group.get("identity/v2/auth/access_token/validate") { request, _ in try await answer(request, .validate) }
    }

    // MARK: - Hosted page

    @Sendable func hostedPage(_ request: Request, context: Context) async throws -> Response {
        let query = request.uri.queryParameters
        let action = query.get("action").flatMap(LoginIntent.init(rawValue:)) ?? .login
        guard let returnURL = query.get("return_url"), isAcceptableReturnURL(returnURL) else {
            return Self.badRequest(returnURLRule)
        }
        let page = MockLoginPage(intent: action, hiddenFields: [("return_url", returnURL)], formAction: request.uri.path, users: await directory.users)
        return page.page.response()
    }

    private struct HostedPageForm: Decodable {
        var action: String?
        var return_url: String?
        var uid: String?
        var first_name: String?
        var last_name: String?
        var email: String?
    }

    @Sendable func submitHostedPage(_ request: Request, context: Context) async throws -> Response {
        let body = try await request.body.collect(upTo: 16 * 1024)
        guard let form = try? URLEncodedFormDecoder().decode(HostedPageForm.self, from: String(buffer: body)),
            let returnURL = form.return_url, isAcceptableReturnURL(returnURL)
        else {
            return Self.badRequest(returnURLRule)
        }
        let userID: String
        if form.action == "register" {
            let email = (form.email ?? "").trimmingCharacters(in: .whitespaces)
            let firstName = (form.first_name ?? "").trimmingCharacters(in: .whitespaces)
            guard !firstName.isEmpty, email.contains("@"), email.count <= 254, firstName.count <= 100 else {
                return Self.badRequest("Registration needs a first name and an email address.")
            }
            let lastName = String((form.last_name ?? "").trimmingCharacters(in: .whitespaces).prefix(100))
            guard let user = await directory.register(firstName: firstName, lastName: lastName, email: email) else {
                return Self.unavailable("The mock has registered as many users as it keeps; restart it to begin again.")
            }
            userID = user.id
        } else {
            userID = form.uid ?? ""
        }
        guard await directory.user(withID: userID) != nil else {
            return Self.badRequest("There is no such user.")
        }
        guard let token = await directory.issueToken(forUserID: userID) else {
            return Self.unavailable("The mock has as many live tokens as it keeps; try again when some expire.")
        }
        let location = returnURL + (returnURL.contains("?") ? "&" : "?") + "token=" + PercentEncoding.encodeComponent(token.value)
        return Response(status: .found, headers: [.location: location, .cacheControl: "no-store"])
    }

    /// Whether the hosted page may send a token to `candidate`: an absolute http(s) URL, on
    /// ``returnOrigin`` when there is one.
    func isAcceptableReturnURL(_ candidate: String) -> Bool {
        guard candidate.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }),
            let url = URL(string: candidate), let scheme = url.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = url.host, !host.isEmpty
        else { return false }
        guard let returnOrigin else { return true }
        return scheme == returnOrigin.scheme?.lowercased() && host.lowercased() == returnOrigin.host?.lowercased()
            && Self.port(of: url) == Self.port(of: returnOrigin)
    }

    private var returnURLRule: String {
        if let returnOrigin, let scheme = returnOrigin.scheme, let host = returnOrigin.host {
            return "The hosted page sends tokens only back to this gateway: return_url must be on \(scheme)://\(host):\(Self.port(of: returnOrigin))."
        }
        return "The hosted page needs a return_url that is an absolute http(s) URL."
    }

    private static func port(of url: URL) -> Int {
        url.port ?? (url.scheme?.lowercased() == "https" ? 443 : 80)
    }

    private static func unavailable(_ message: String) -> Response {
        HTMLPage(title: "Mock identity provider", body: "<h1>Not now</h1><p>\(HTMLPage.escape(message))</p>")
            .response(status: .serviceUnavailable)
    }

    private static func badRequest(_ message: String) -> Response {
        HTMLPage(title: "Mock identity provider", body: "<h1>Bad request</h1><p>\(HTMLPage.escape(message))</p>")
            .response(status: .badRequest)
    }

    // MARK: - API

    private func answer(_ request: Request, _ endpoint: LoginRadiusEndpoint) async throws -> Response {
        let apiKey = request.uri.queryParameters.get("apikey")
        let token = Self.bearerToken(in: request.headers)
        let answer: MockAPIAnswer
        switch await directory.receive(endpoint, apiKey: apiKey, token: token) {
        case .answer(let normal):
            answer = normal
        case .fault(let fault):
            if let response = try await Self.respond(to: fault) { return response }
            answer = await directory.answer(endpoint, apiKey: apiKey, token: token)
        }
        return Response(
            status: .init(code: answer.status),
            headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: answer.body))
        )
    }

    /// The faulty answer to send instead of the normal one; `nil` when the fault only delays.
    static func respond(to fault: MockFault) async throws -> Response? {
        switch fault {
        case .status(let code):
            let status = HTTPResponse.Status(code: code)
            return Response(
                status: status,
                headers: [.contentType: "text/plain"],
                body: .init(byteBuffer: ByteBuffer(string: "\(code) \(status.reasonPhrase)"))
            )
        case .delay(let duration):
            try await Task.sleep(for: duration)
            return nil
        case .body(let code, let contentType, let text):
            return Response(status: .init(code: code), headers: [.contentType: contentType], body: .init(byteBuffer: ByteBuffer(string: text)))
        case .redirect(let location):
            return Response(status: .found, headers: [.location: location])
        case .dripBody(let interval):
            let body = ResponseBody { writer in
                for byte in #"{"Uid": "drip", "Padding": ""#.utf8 + Array(repeating: UInt8(ascii: "x"), count: 10_000) {
                    try await writer.write(ByteBuffer(bytes: [byte]))
                    try await Task.sleep(for: interval)
                }
                try await writer.finish(nil)
            }
            return Response(status: .ok, headers: [.contentType: "application/json"], body: body)
        case .hugeBody(let byteCount):
            let opening = ByteBuffer(string: #"{"Uid": "huge", "Padding": ""#)
            let closing = ByteBuffer(string: #""}"#)
            let chunk = ByteBuffer(repeating: UInt8(ascii: "x"), count: 64 * 1024)
            let body = ResponseBody(contentLength: byteCount) { writer in
                try await writer.write(opening)
                var remaining = byteCount - opening.readableBytes - closing.readableBytes
                while remaining > 0 {
                    try await writer.write(remaining >= chunk.readableBytes ? chunk : chunk.getSlice(at: 0, length: remaining)!)
                    remaining -= chunk.readableBytes
                }
                try await writer.write(closing)
                try await writer.finish(nil)
            }
            return Response(status: .ok, headers: [.contentType: "application/json"], body: body)
        }
    }

    static func bearerToken(in headers: HTTPFields) -> String? {
        guard let authorization = headers[.authorization] else { return nil }
        let parts = authorization.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return String(parts[1])
    }
}
