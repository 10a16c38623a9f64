import Foundation
import Logging

/// Everything `gatehouse serve` needs, resolved and validated: `env:` references read, defaults
/// applied. Built by ``ConfigurationLoader`` from the JSON file described in the README.
public struct GatehouseConfiguration: Sendable {
    /// The address browsers use to reach the gateway, scheme and host (and port), no path.
    public var publicURL: String
    public var listen: Listen
    public var provider: Provider
    public var sessions: Sessions
    public var redirects: Redirects
    /// The least severe level logged; `--log-level` overrides it.
    public var logLevel: Logger.Level
    public var metrics: Metrics

    public init(
        publicURL: String,
        listen: Listen,
        provider: Provider,
        sessions: Sessions,
        redirects: Redirects,
        logLevel: Logger.Level = .info,
        metrics: Metrics = .init()
    ) {
        self.publicURL = publicURL
        self.listen = listen
        self.provider = provider
        self.sessions = sessions
        self.redirects = redirects
        self.logLevel = logLevel
        self.metrics = metrics
    }

    /// Whether and where `/metrics` is served.
    public struct Metrics: Sendable, Equatable {
        /// Whether `/metrics` is served at all.
        public var enabled: Bool
        /// A listener of its own for `/metrics` (then the gateway's listener does not serve it);
        /// `nil` serves it beside the gateway's routes.
        public var listen: Listen?

        public init(enabled: Bool = true, listen: Listen? = nil) {
            self.enabled = enabled
            self.listen = listen
        }
    }

    /// Where the server listens, and how long a connection may sit without completing a request.
    public struct Listen: Sendable, Equatable {
        public var host: String
        public var port: Int
        /// Seconds a connection may stay open without a complete request head: idle keep-alive
        /// connections and clients that dribble their headers are closed after this long.
        public var idleTimeoutSeconds: Double

        public init(host: String = "127.0.0.1", port: Int = 8080, idleTimeoutSeconds: Double = 30) {
            self.host = host
            self.port = port
            self.idleTimeoutSeconds = idleTimeoutSeconds
        }
    }

    /// The identity provider.
    public struct Provider: Sendable, Equatable {
        /// Which implementation of ``IdentityProvider`` to use.
        public enum Kind: String, Sendable, CaseIterable {
            /// LoginRadius (or a compatible service) over HTTP.
            case loginRadius = "loginradius"
            /// Any standard OpenID Connect provider.
            case openIDConnect = "oidc"
            /// The in-process mock, with its hosted page served by the gateway under ``MockProviderMount/pathPrefix``.
            case mock
        }

        public var kind: Kind
        public var appName: String?
        public var apiKey: String
        public var apiSecret: String?
        public var hostedPageURL: String
        public var apiURL: String
        /// The deadline for one provider call, in seconds.
        public var timeoutSeconds: Double
        /// The OpenID Connect client, for ``Kind/openIDConnect``.
        public var openIDConnect: OpenIDConnect?

        public init(
            kind: Kind,
            appName: String? = nil,
            apiKey: String = "",
            apiSecret: String? = nil,
            hostedPageURL: String = "",
            apiURL: String = "",
            timeoutSeconds: Double = 5,
            openIDConnect: OpenIDConnect? = nil
        ) {
            self.kind = kind
            self.appName = appName
            self.apiKey = apiKey
            self.apiSecret = apiSecret
            self.hostedPageURL = hostedPageURL
            self.apiURL = apiURL
            self.timeoutSeconds = timeoutSeconds
            self.openIDConnect = openIDConnect
        }

        /// An OpenID Connect client registration (contract §7).
        public struct OpenIDConnect: Sendable, Equatable {
            public var issuer: String
            /// `nil`: `{issuer}/.well-known/openid-configuration`.
            public var discoveryURL: String?
            public var clientID: String
            /// `nil` for a public client.
            public var clientSecret: String?
            public var scopes: [String]

            public init(
                issuer: String,
                discoveryURL: String? = nil,
                clientID: String,
                clientSecret: String? = nil,
                scopes: [String] = ["openid", "email", "profile"]
            ) {
                self.issuer = issuer
                self.discoveryURL = discoveryURL
                self.clientID = clientID
                self.clientSecret = clientSecret
                self.scopes = scopes
            }
        }
    }

    /// Where sessions are kept and how long they live.
    public struct Sessions: Sendable, Equatable {
        /// Which ``SessionStore`` to use.
        public enum Store: String, Sendable, CaseIterable {
            case memory
            case sqlite
            case postgres
        }

        public var store: Store
        public var sqlitePath: String
        public var postgresURL: String?
        public var cookieName: String
        public var secureCookies: Bool
        public var lifetime: SessionManager.Configuration
        /// The key that seals tokens at rest (32 bytes); `nil` reads or creates ``keyFile``.
        public var encryptionKey: Data?
        /// Where the generated key lives when no ``encryptionKey`` is given.
        public var keyFile: String

        public init(
            store: Store = .sqlite,
            sqlitePath: String = "gatehouse-sessions.sqlite",
            postgresURL: String? = nil,
            cookieName: String = "gatehouse_session",
            secureCookies: Bool = true,
            lifetime: SessionManager.Configuration = .init(),
            encryptionKey: Data? = nil,
            keyFile: String? = nil
        ) {
            self.store = store
            self.sqlitePath = sqlitePath
            self.postgresURL = postgresURL
            self.cookieName = cookieName
            self.secureCookies = secureCookies
            self.lifetime = lifetime
            self.encryptionKey = encryptionKey
            self.keyFile = keyFile ?? sqlitePath + ".key"
        }
    }

    /// Where browsers go after login and logout.
    public struct Redirects: Sendable, Equatable {
        public var afterLogin: RedirectTarget
        public var afterLogout: RedirectTarget

        public init(afterLogin: RedirectTarget = .init(validating: "/dashboard")!, afterLogout: RedirectTarget = .init(validating: "/")!) {
            self.afterLogin = afterLogin
            self.afterLogout = afterLogout
        }
    }
}

/// Where the gateway serves the mock provider's hosted page when `provider.type` is `mock`.
public enum MockProviderMount {
    public static let pathPrefix = "/mock-idp"
}
