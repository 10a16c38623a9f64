import Foundation

extension GatehouseConfiguration {
    /// An app Gatehouse proxies to (contract §10): requests under `pathPrefix` go to `target`,
    /// once the access rules' route policy for the path passes.
    public struct Upstream: Sendable, Equatable {
        /// Where an upstream listens.
        public enum Target: Sendable, Equatable {
            /// `http://` or `https://` with host and port, no path.
            case http(origin: String)
            /// A Unix domain socket, spoken to in plain HTTP.
            case unixSocket(path: String)
        }

        /// Normalized, starting with `/`; one ending in `/` also covers the path without it.
        public var pathPrefix: String
        public var target: Target
        /// How long connecting, then sending the request and receiving the response's head, may take.
        public var timeout: Duration
        /// Whether the app receives `Authorization: Bearer` with the session's access token.
        public var passAccessToken: Bool
        /// Whether the app receives the browser's `Host` (else the upstream's own host and port).
        public var preserveHost: Bool

        public init(pathPrefix: String, target: Target, timeout: Duration = .seconds(30), passAccessToken: Bool = false, preserveHost: Bool = true) {
            self.pathPrefix = pathPrefix
            self.target = target
            self.timeout = timeout
            self.passAccessToken = passAccessToken
            self.preserveHost = preserveHost
        }
    }
}

extension GatehouseConfiguration.Upstream {
    /// ## Configuration keys (each entry of the `upstreams` list)
    /// - `pathPrefix` (required): a normalized path such as `/` or `/grafana/`.
    /// - `url` (required): `http://host:port` or `https://host:port` without a path (the app gets
    ///   the request's path unchanged), or a Unix socket as `unix:/path/to.sock`.
    /// - `timeoutSeconds` (default `30`): no answer (the response's head) within it is 504.
    /// - `passAccessToken` (default `false`), `preserveHost` (default `true`).
    init?(reader: SettingsReader) {
        let prefixHint = #"a path such as "/" or "/grafana/""#
        let urlHint = #"an address such as "http://127.0.0.1:3000" or "unix:/run/app.sock""#
        let prefix = reader.string("pathPrefix", hint: prefixHint)
        let address = reader.string("url", required: true, hint: urlHint)
        let timeout = reader.seconds("timeoutSeconds", default: .seconds(30), in: 0.1...86_400, hint: "a number of seconds, e.g. 30")
        let passAccessToken = reader.bool("passAccessToken", default: false, hint: "true or false") ?? false
        let preserveHost = reader.bool("preserveHost", default: true, hint: "true or false") ?? true
        guard let prefix, let address else { return nil }
        guard RequestPath.normalized(prefix).map({ $0 == prefix || $0 + "/" == prefix }) == true else {
            reader.problem("pathPrefix", "must be a normalized path starting with /", hint: prefixHint)
            return nil
        }
        guard let target = Self.target(address) else {
            reader.problem("url", "must be http://host:port or https://host:port without a path, query or user info, or unix:/path/to.sock", hint: urlHint)
            return nil
        }
        self.init(pathPrefix: prefix, target: target, timeout: timeout, passAccessToken: passAccessToken, preserveHost: preserveHost)
    }

    /// The target `address` names, or `nil` when it names none.
    static func target(_ address: String) -> Target? {
        if address.hasPrefix("unix:") {
            let path = String(address.dropFirst("unix:".count))
            return path.hasPrefix("/") && path.count > 1 && !path.contains("\0") ? .unixSocket(path: path) : nil
        }
        guard let url = URLComponents(string: address), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
            let host = url.host, !host.isEmpty, url.user == nil, url.password == nil, url.query == nil, url.fragment == nil,
            url.path.isEmpty || url.path == "/"
        else { return nil }
        let hostPart = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        return .http(origin: "\(scheme)://\(hostPart)" + (url.port.map { ":\($0)" } ?? ""))
    }
}

extension GatehouseConfiguration {
    /// The `upstreams` list: each entry read by ``Upstream/init(reader:)``; a prefix listed twice,
    /// or one Gatehouse answers itself, is a problem.
    static func upstreams(reader: SettingsReader) -> [Upstream] {
        let upstreams = reader.list(
            "upstreams",
            presentKey: "pathPrefix",
            hint: #"a list such as [{"pathPrefix": "/", "url": "http://127.0.0.1:3000"}]"#,
            Upstream.init(reader:)
        )
        var seen: Set<String> = []
        for upstream in upstreams where !seen.insert(upstream.pathPrefix).inserted {
            reader.problem("upstreams", "lists the pathPrefix \"\(upstream.pathPrefix)\" twice", fix: "keep one entry per upstreams pathPrefix")
        }
        for upstream in upstreams where GatewayOwnPaths.contains(upstream.pathPrefix) {
            reader.problem(
                "upstreams",
                "gives \"\(upstream.pathPrefix)\" to an upstream, but Gatehouse answers that path itself",
                fix: "choose a prefix outside /login, /register, /logout, /auth, /healthz, /readyz and /metrics"
            )
        }
        return upstreams
    }
}

/// The paths Gatehouse answers itself whatever the upstreams claim (contract §10): the login
/// routes, logout, forward auth, health and metrics.
public enum GatewayOwnPaths {
    static let paths = ["/login", "/register", "/logout", "/auth", "/healthz", "/readyz", "/metrics"]

    /// Whether `path` (normalized) is one of them, or under one: `/login`, `/login/`, `/login/callback/…`.
    /// `extra` adds prefixes of this gateway's (the mock provider's mount).
    public static func contains(_ path: String, extra: [String] = []) -> Bool {
        (paths + extra).contains { own in
            path == own || (path.hasPrefix(own) && path.utf8.dropFirst(own.utf8.count).first == UInt8(ascii: "/"))
        }
    }
}
