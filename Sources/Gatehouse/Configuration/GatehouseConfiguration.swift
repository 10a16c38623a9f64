import Foundation
import Logging

/// Everything `gatehouse serve` needs, resolved and validated: `env:` references read, defaults
/// applied. Read by ``ConfigurationLoader`` from every source (``ConfigurationSources``), each
/// part by its own `init(reader:)`, whose doc comment lists its keys (the README's table too).
public struct GatehouseConfiguration: Sendable {
    /// The address browsers use to reach the gateway, scheme and host (and port), no path.
    public var publicURL = "http://127.0.0.1:8080"
    public var listen = Listen()
    public var provider = Provider()
    public var sessions = Sessions()
    public var redirects = Redirects()
    /// The least severe level logged; `--log-level` overrides it.
    public var logLevel = Logger.Level.info
    public var metrics = Metrics()
    public var access = Access()
    public var logins = Logins()
    /// The apps Gatehouse proxies to, in reverse-proxy mode; none by default.
    public var upstreams: [Upstream] = []

    /// Where a server listens, and how long a connection may sit without completing a request:
    /// idle keep-alive connections and clients that dribble their headers are closed after it.
    public struct Listen: Sendable, Equatable {
        public var host = "127.0.0.1"
        public var port = 8080
        public var idleTimeout = Duration.seconds(30)
    }

    /// Where browsers go after login and logout.
    public struct Redirects: Sendable, Equatable {
        public var afterLogin = RedirectTarget(validating: "/dashboard")!
        public var afterLogout = RedirectTarget(validating: "/")!
    }

    /// Whether and where `/metrics` is served.
    public struct Metrics: Sendable, Equatable {
        public var enabled = true
        /// A listener of its own for `/metrics` (then the gateway's does not serve it); `nil`
        /// serves it beside the gateway's routes.
        public var listen: Listen?
    }
}

extension GatehouseConfiguration {
    /// ## Configuration keys
    /// - `publicURL` (URL, default `http://{listen.host}:{listen.port}`): scheme, host and port only.
    /// - `logLevel` (default `info`): `trace` … `critical`.
    /// - the sections `listen`, `provider`, `sessions`, `redirects`, `metrics`, `access` and `logins`,
    ///   and the list `upstreams`, which list their own.
    public init(reader: SettingsReader) {
        listen = Listen(reader: reader.scoped(to: "listen"))
        let host = listen.host == "0.0.0.0" || listen.host == "::" ? "localhost" : listen.host
        let derived = "http://\(host):\(listen.port)"
        publicURL = reader.url("publicURL", default: derived, allowPath: false, hint: "the address browsers use, e.g. \"https://login.example.com\"") ?? derived
        provider = Provider(reader: reader.scoped(to: "provider"), publicURL: publicURL, listenHost: listen.host)
        sessions = Sessions(reader: reader.scoped(to: "sessions"), publicURL: publicURL)
        redirects = Redirects(reader: reader.scoped(to: "redirects"))
        logLevel = reader.choice("logLevel", default: Logger.Level.info) ?? .info
        metrics = Metrics(reader: reader.scoped(to: "metrics"), gatewayListen: listen)
        access = Access(reader: reader.scoped(to: "access"))
        logins = Logins(reader: reader.scoped(to: "logins"))
        upstreams = Self.upstreams(reader: reader)
    }
}

extension GatehouseConfiguration.Listen {
    /// ## Configuration keys
    /// - `host` (default `127.0.0.1`), `port` (default `8080`; `9464` for `metrics.listen`),
    ///   `idleTimeoutSeconds` (default `30`).
    public init(reader: SettingsReader, defaultPort: Int = 8080) {
        port = defaultPort
        if let text = reader.string("host", default: host, hint: "an address such as \"127.0.0.1\" or \"0.0.0.0\"") {
            if text.isEmpty || text.contains(where: \.isWhitespace) {
                reader.problem("host", "is not a host address", hint: "an address such as \"127.0.0.1\"")
            } else {
                host = text
            }
        }
        port = reader.integer("port", default: port, in: 0...65535, hint: "a port number such as 8080") ?? port
        idleTimeout = reader.seconds("idleTimeoutSeconds", default: idleTimeout, in: 0.1...3600, hint: "a number of seconds, e.g. 30")
    }
}

extension GatehouseConfiguration.Redirects {
    /// ## Configuration keys
    /// - `afterLogin` (default `/dashboard`), `afterLogout` (default `/`): local paths only.
    public init(reader: SettingsReader) {
        self.init()
        for (name, keyPath) in [("afterLogin", \Self.afterLogin), ("afterLogout", \.afterLogout)] {
            let hint = "a relative path such as \"/dashboard\"; other hosts are never redirected to"
            guard let text = reader.string(name, default: self[keyPath: keyPath].path, hint: hint) else { continue }
            if let target = RedirectTarget(validating: text) {
                self[keyPath: keyPath] = target
            } else {
                reader.problem(name, "must be a path on this gateway starting with a single /", hint: hint)
            }
        }
    }
}

extension GatehouseConfiguration.Metrics {
    /// ## Configuration keys
    /// - `enabled` (default `true`); `listen.host`, `listen.port` (default `9464` once either is
    ///   given), `listen.idleTimeoutSeconds`.
    public init(reader: SettingsReader, gatewayListen: GatehouseConfiguration.Listen) {
        enabled = reader.bool("enabled", default: true, hint: "true or false") ?? true
        let own = reader.isSet("listen")
        let listen = GatehouseConfiguration.Listen(reader: reader.scoped(to: "listen"), defaultPort: 9464)
        self.listen = own ? listen : nil
        if own, listen.host == gatewayListen.host, listen.port == gatewayListen.port, listen.port != 0 {
            reader.problem(
                "listen",
                "is the gateway's own address",
                fix: "give metrics.listen another port (e.g. 9464), or leave it out to serve /metrics beside the gateway"
            )
        }
    }
}

/// Where the gateway serves the mock provider's hosted page when `provider.type` is `mock`.
public enum MockProviderMount {
    public static let pathPrefix = "/mock-idp"
}
