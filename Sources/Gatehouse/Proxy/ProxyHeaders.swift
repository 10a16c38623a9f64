import Foundation
import HTTPTypes
import NIOHTTP1

/// Which headers cross the proxy, each way, and what Gatehouse adds (contract §10).
///
/// Hop-by-hop headers (`Connection` and those it names, `Keep-Alive`, `TE`, `Trailer`,
/// `Transfer-Encoding`, `Upgrade`, every `Proxy-*`) belong to one connection and cross neither way.
/// The app gets no copy a client wrote of what Gatehouse vouches for (the identity headers, in any
/// spelling a framework might read as the same: `X_Forwarded_User` is `X-Forwarded-User` to CGI
/// and WSGI), and none of Gatehouse's cookies; a browser gets no `Set-Cookie` of them from the app.
enum ProxyHeaders {
    /// Who is asking, as the app is told: Gatehouse's own answers, set after the client's copies are removed.
    struct Forwarding: Sendable {
        /// The connection's peer; `nil` where there is none (router tests).
        var peer: String?
        /// Whether the peer is one of `access.trustedProxies`: then its `X-Forwarded-*` are kept and appended to.
        var peerIsTrusted: Bool
        /// The `Host` the client asked for.
        var host: String?
        /// Whether the app receives `host` as its `Host` (else AsyncHTTPClient sends the upstream's).
        var preserveHost: Bool
    }

    /// The user the app is told of, `nil` on a public route.
    typealias Identity = PassedIdentity

    static let forwardedUser = "X-Forwarded-User"
    static let forwardedEmail = "X-Forwarded-Email"
    static let forwardedGroups = "X-Forwarded-Groups"
    static let forwardedPreferredUsername = "X-Forwarded-Preferred-Username"

    /// The headers only Gatehouse may set, compared lowercased with `_` read as `-`.
    private static let vouched: Set<String> = [
        "x-forwarded-user", "x-forwarded-email", "x-forwarded-groups", "x-forwarded-preferred-username", "x-forwarded-access-token",
        "x-auth-request-user", "x-auth-request-email", "x-auth-request-groups", "x-auth-request-preferred-username",
        "x-auth-request-access-token", "x-forwarded-for", "x-forwarded-proto", "x-forwarded-host",
    ]
    /// What only a trusted proxy may tell the app about the client; dropped from anyone else.
    private static let proxyAsserted: Set<String> = ["forwarded", "x-real-ip", "x-forwarded-port", "x-forwarded-prefix"]
    private static let hopByHop: Set<String> = ["connection", "keep-alive", "te", "trailer", "transfer-encoding", "upgrade"]

    /// The request headers the app receives for a request that came with `fields`.
    ///
    /// - Parameter isGatehouseCookie: whether a cookie name is the session's or a login attempt's.
    static func upstreamRequest(
        _ fields: HTTPFields,
        forwarding: Forwarding,
        identity: Identity?,
        isGatehouseCookie: (Substring) -> Bool
    ) -> HTTPHeaders {
        let named = connectionTokens(fields[values: .connection])
        var headers = HTTPHeaders()
        headers.reserveCapacity(fields.count + 8)
        var cookies: [Substring] = []
        for field in fields {
            let name = field.name.canonicalName
            if isHopByHop(name, named: named) || name == "expect" { continue }
            let spelled = name.replacing("_", with: "-")
            if vouched.contains(spelled) { continue }
            if !forwarding.peerIsTrusted, proxyAsserted.contains(spelled) { continue }
            if name == "cookie" {
                cookies += field.value.split(separator: ";").filter { pair in
                    let cookieName = pair.drop { $0 == " " }.prefix { $0 != "=" }
                    return !isGatehouseCookie(cookieName)
                }
                continue
            }
            if name == "authorization", identity?.accessToken != nil { continue }
            headers.add(name: field.name.rawName, value: field.value)
        }
        if !cookies.isEmpty {
            headers.add(name: "Cookie", value: cookies.map { $0.drop { $0 == " " } }.joined(separator: "; "))
        }
        addForwarded(to: &headers, from: fields, forwarding)
        if let identity {
            headers.add(name: forwardedUser, value: identity.user)
            if let email = identity.email { headers.add(name: forwardedEmail, value: email) }
            if let groups = identity.groups { headers.add(name: forwardedGroups, value: groups) }
            if let username = identity.preferredUsername { headers.add(name: forwardedPreferredUsername, value: username) }
            if let token = identity.accessToken { headers.add(name: "Authorization", value: "Bearer \(token)") }
        }
        return headers
    }

    /// The response headers the browser receives for an app's answer with `headers`.
    static func browserResponse(_ headers: HTTPHeaders, isGatehouseCookie: (Substring) -> Bool) -> HTTPFields {
        let named = connectionTokens(headers[canonicalForm: "connection"].map(String.init))
        var fields = HTTPFields()
        fields.reserveCapacity(headers.count)
        for (name, value) in headers {
            let lowercased = name.lowercased()
            if isHopByHop(lowercased, named: named) { continue }
            if lowercased == "set-cookie", isGatehouseCookie(value.drop { $0 == " " }.prefix { $0 != "=" }[...]) { continue }
            guard let fieldName = HTTPField.Name(name) else { continue }
            fields.append(HTTPField(name: fieldName, value: value))
        }
        return fields
    }

    /// `X-Forwarded-For` (the peer appended to a trusted proxy's list, else the peer alone),
    /// `X-Forwarded-Proto` and `X-Forwarded-Host` (a trusted proxy's, else this connection's), and `Host`.
    private static func addForwarded(to headers: inout HTTPHeaders, from fields: HTTPFields, _ forwarding: Forwarding) {
        let trusted = forwarding.peerIsTrusted
        let chain = trusted ? fields[values: ClientAddress.forwardedFor].joined(separator: ", ") : ""
        if let peer = forwarding.peer {
            headers.add(name: "X-Forwarded-For", value: chain.isEmpty ? peer : chain + ", " + peer)
        } else if !chain.isEmpty {
            headers.add(name: "X-Forwarded-For", value: chain)
        }
        let proto = trusted ? fields[forwardedProto] : nil
        headers.add(name: "X-Forwarded-Proto", value: proto ?? "http")
        if let host = (trusted ? fields[forwardedHost] : nil) ?? forwarding.host {
            headers.add(name: "X-Forwarded-Host", value: host)
        }
        if forwarding.preserveHost, let host = forwarding.host {
            headers.replaceOrAdd(name: "Host", value: host)
        }
    }

    private static let forwardedProto = HTTPField.Name("X-Forwarded-Proto")!
    private static let forwardedHost = HTTPField.Name("X-Forwarded-Host")!

    private static func isHopByHop(_ lowercasedName: String, named: Set<String>) -> Bool {
        hopByHop.contains(lowercasedName) || lowercasedName.hasPrefix("proxy-") || named.contains(lowercasedName)
    }

    /// The header names `Connection` lists (lowercased).
    private static func connectionTokens(_ values: some Sequence<String>) -> Set<String> {
        var tokens: Set<String> = []
        for value in values {
            for token in value.split(separator: ",") {
                let name = token.trimmingCharacters(in: .whitespaces).lowercased()
                if !name.isEmpty { tokens.insert(name) }
            }
        }
        return tokens
    }
}
