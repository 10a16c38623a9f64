import Foundation

extension GatehouseConfiguration {
    /// Where sessions are kept and how long they live.
    public struct Sessions: Sendable, Equatable {
        /// Which ``SessionStore`` to use.
        public enum Store: String, Sendable, CaseIterable {
            case memory, sqlite, postgres
        }

        public var store = Store.sqlite
        public var sqlitePath = "gatehouse-sessions.sqlite"
        public var postgresURL: String?
        public var cookieName = "gatehouse_session"
        public var secureCookies = true
        public var lifetime = SessionManager.Configuration()
        /// The key that seals tokens at rest (32 bytes); `nil` reads or creates the key file.
        public var encryptionKey: Data?
        /// Where the generated key lives when no ``encryptionKey`` is given; `nil`: `{sqlitePath}.key`.
        public var keyFile: String?

        /// The key file's path.
        public var keyFilePath: String { keyFile ?? sqlitePath + ".key" }
    }
}

extension GatehouseConfiguration.Sessions {
    /// ## Configuration keys
    /// - `store` (default `sqlite`): `memory`, `sqlite` or `postgres`; `sqlitePath` (default
    ///   `gatehouse-sessions.sqlite`), `keyFile` (default `{sqlitePath}.key`).
    /// - `postgresURL` and `encryptionKey` (secrets; both required with `postgres`; the key is 32 bytes in base64).
    /// - `cookieName` (default `gatehouse_session`), `secureCookies` (default: whether `publicURL` is https).
    /// - `idleTimeoutSeconds` (default `1800`), `absoluteTimeoutSeconds` (default `28800`),
    ///   `revalidateAfterSeconds` (default `30`; `0` asks the provider on every gated request).
    public init(reader: SettingsReader, publicURL: String) {
        let https = publicURL.lowercased().hasPrefix("https://")
        store = reader.choice("store", default: Store.sqlite) ?? .sqlite
        sqlitePath = reader.string("sqlitePath", default: sqlitePath, hint: "a file path such as \"gatehouse-sessions.sqlite\"") ?? sqlitePath
        if sqlitePath.isEmpty {
            reader.problem("sqlitePath", "is empty", hint: "a file path such as \"gatehouse-sessions.sqlite\"")
        }
        keyFile = reader.string("keyFile", default: sqlitePath + ".key", hint: "a file path")
        let key = reader.string(
            "encryptionKey",
            secret: true,
            hint: "\"env:GATEHOUSE_SESSION_KEY\" holding 32 random bytes in base64 (openssl rand -base64 32)"
        )
        encryptionKey = key.flatMap { Data(base64Encoded: $0) }.flatMap { $0.count == 32 ? $0 : nil }
        if key != nil, encryptionKey == nil {
            reader.problem("encryptionKey", "must be 32 bytes in base64", fix: "generate one with `openssl rand -base64 32`")
        }
        if store == .postgres {
            readPostgres(reader)
        } else {
            reader.declare(["postgresURL"])
        }
        cookieName = reader.string("cookieName", default: cookieName, hint: "letters, digits, - and _ only, e.g. \"gatehouse_session\"") ?? cookieName
        if !Self.isCookieName(cookieName) {
            reader.problem("cookieName", "is not a valid cookie name", hint: "letters, digits, - and _ only, e.g. \"gatehouse_session\"")
        }
        secureCookies = reader.bool("secureCookies", default: https, hint: "true (HTTPS) or false (plain HTTP)") ?? https
        if !secureCookies, https {
            reader.warning("secureCookies", "is false although publicURL is https", fix: "set it to true so cookies never travel over plain HTTP")
        }
        let (day, defaults) = (86_400.0, lifetime)
        lifetime = .init(
            idleTimeout: reader.number("idleTimeoutSeconds", default: defaults.idleTimeout, in: 1...(365 * day), hint: "a number of seconds, e.g. 1800")
                ?? defaults.idleTimeout,
            absoluteTimeout: reader.number(
                "absoluteTimeoutSeconds",
                default: defaults.absoluteTimeout,
                in: 1...(365 * day),
                hint: "a number of seconds, e.g. 28800"
            )
                ?? defaults.absoluteTimeout,
            revalidateAfter: reader.number(
                "revalidateAfterSeconds",
                default: defaults.revalidateAfter,
                in: 0...day,
                hint: "a number of seconds (0 asks the provider on every request)"
            ) ?? defaults.revalidateAfter
        )
    }

    /// PostgreSQL's keys: a `postgresURL` and an `encryptionKey` every instance shares.
    private mutating func readPostgres(_ reader: SettingsReader) {
        postgresURL = reader.string("postgresURL", secret: true, required: true, hint: "a postgres:// URL, e.g. \"env:GATEHOUSE_POSTGRES_URL\"")
        if let url = postgresURL {
            do {
                _ = try PostgresSessionStore.makeClientConfiguration(url: url)
            } catch {
                reader.problem("postgresURL", error.description, fix: error.fix)
            }
        }
        if encryptionKey == nil, !reader.isSet("encryptionKey") {
            reader.missing(
                "encryptionKey",
                "is required when sessions.store is postgres (every instance must seal sessions with the same key)",
                hint: "\"env:GATEHOUSE_SESSION_KEY\", with the same `openssl rand -base64 32` on every instance"
            )
        }
    }

    /// Letters, digits, `-` and `_`, at most 64 characters.
    static func isCookieName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 64
            && name.unicodeScalars.allSatisfy { ($0.isASCII && CharacterSet.alphanumerics.contains($0)) || $0 == "-" || $0 == "_" }
    }
}
