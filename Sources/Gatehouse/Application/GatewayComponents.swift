import AsyncHTTPClient
import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle

/// The pluggable parts of a gateway, chosen from the configuration in one place.
public struct GatewayComponents: Sendable {
    public var provider: any IdentityProvider
    public var store: any SessionStore
    /// The keys from the session key: they seal sessions at rest and the login-attempt cookies.
    public var keys: SessionKeys
    /// The login states already used: memory for one gateway, the database for several.
    public var spentLoginStates: any SpentLoginStateStore
    /// The mock provider's directory, when the provider is the in-process mock; its hosted page is
    /// then served by the gateway under ``MockProviderMount/pathPrefix``.
    public var mockDirectory: MockDirectory?
    /// Long-lived parts that must shut down in order (HTTP client, database connection).
    public var services: [any Service]
    /// Work to finish once the services run and before the server accepts requests (schema creation).
    public var preparations: [@Sendable () async throws -> Void]
    /// The clock sessions are stamped by, when the store has one of its own (a shared database's);
    /// nil for this machine's.
    public var clock: (@Sendable () -> Date)?
    /// The cache in front of a durable store, when there is one (its counts go to `/metrics`).
    public var sessionCache: SessionCache?

    public init(
        provider: any IdentityProvider,
        store: any SessionStore,
        keys: SessionKeys = .ephemeral(),
        spentLoginStates: any SpentLoginStateStore = MemorySpentLoginStateStore(),
        mockDirectory: MockDirectory? = nil,
        services: [any Service] = [],
        preparations: [@Sendable () async throws -> Void] = [],
        clock: (@Sendable () -> Date)? = nil,
        sessionCache: SessionCache? = nil
    ) {
        self.provider = provider
        self.store = store
        self.keys = keys
        self.spentLoginStates = spentLoginStates
        self.mockDirectory = mockDirectory
        self.services = services
        self.preparations = preparations
        self.clock = clock
        self.sessionCache = sessionCache
    }

    /// Builds the provider and the session store the configuration names.
    public static func make(for configuration: GatehouseConfiguration, mockUsers: [[String: JSONValue]] = [], logger: Logger) async throws -> GatewayComponents
    {
        // The store first: if it cannot open, no HTTP client has been created that would need shutting down.
        let opened = try await StoreParts.open(configuration.sessions, logger: logger)
        var services = opened.services
        let preparations = opened.preparations
        let (store, keys, spentLoginStates) = (opened.store, opened.keys, opened.spentLoginStates)

        let settings = configuration.provider
        let provider: any IdentityProvider
        var mockDirectory: MockDirectory?
        /// The transport of a provider over HTTP, its client shut down with the other services.
        func transport() -> ProviderTransport {
            let timeout = settings.timeout
            let client = ProviderTransport.makeHTTPClient(timeout: timeout)
            services.append(HTTPClientService(client: client))
            return ProviderTransport(client: client, configuration: .init(timeout: timeout))
        }
        switch settings.kind {
        case .loginRadius:
            provider = LoginRadiusProvider(
                configuration: .init(hostedPageURL: settings.hostedPageURL),
                api: LoginRadiusHTTPAPI(apiURL: settings.apiURL, apiKey: settings.apiKey, transport: transport())
            )
        case .openIDConnect:
            guard let client = settings.openIDConnect else {
                throw ConfigurationError(problems: [.init(key: "provider", message: "the oidc provider needs issuer and clientID", fix: "set both")])
            }
            provider = OpenIDConnectProvider(
                configuration: .init(
                    issuer: client.issuer,
                    discoveryURL: client.discoveryURL,
                    clientID: client.clientID,
                    clientSecret: client.clientSecret,
                    scopes: client.scopes
                ),
                transport: transport()
            )
        case .mock:
            logger.warning("provider.type is mock: anyone can sign in as any fixture user. Never use this in production.")
            let directory = MockDirectory(users: mockUsers)
            provider = LoginRadiusProvider.mock(directory: directory, hostedPageURL: settings.hostedPageURL, apiKey: settings.apiKey)
            mockDirectory = directory
        }
        return GatewayComponents(
            provider: provider,
            store: store,
            keys: keys,
            spentLoginStates: spentLoginStates,
            mockDirectory: mockDirectory,
            services: services,
            preparations: preparations,
            clock: opened.clock,
            sessionCache: opened.cache
        )
    }
}

/// A session store as a configuration names it, with what must run beside it.
struct StoreParts {
    var store: any SessionStore
    var keys: SessionKeys
    var spentLoginStates: any SpentLoginStateStore
    /// The database connection, to run (and shut down) in the service group.
    var services: [any Service]
    /// The schema's migration, once the services run.
    var preparations: [@Sendable () async throws -> Void]
    /// The database server's clock, for a store shared by several machines.
    var clock: (@Sendable () -> Date)? = nil
    /// The cache in front of the store, if any.
    var cache: SessionCache? = nil

    /// - Parameter existing: open only what is there, making no database or key file, and
    ///   caching nothing (`gatehouse sessions`).
    static func open(_ sessions: GatehouseConfiguration.Sessions, existing: Bool = false, logger: Logger) async throws -> StoreParts {
        switch sessions.store {
        case .memory:
            let keys = try sessions.encryptionKey.map(SessionKeys.init(keyBytes:)) ?? .ephemeral()
            return StoreParts(store: MemorySessionStore(), keys: keys, spentLoginStates: MemorySpentLoginStateStore(), services: [], preparations: [])
        case .sqlite:
            if existing, !FileManager.default.fileExists(atPath: sessions.sqlitePath) {
                throw StartupError(
                    description:
                        "there is no session database at \(SessionKeyFile.absolute(sessions.sqlitePath)); give sessions.sqlitePath as the gateway has it"
                )
            }
            let key =
                try sessions.encryptionKey ?? (existing ? SessionKeyFile.load(at: sessions.keyFilePath) : SessionKeyFile.loadOrCreate(at: sessions.keyFilePath))
            let keys = try SessionKeys(keyBytes: key)
            let sqlite = try await SQLiteSessionStore.open(path: sessions.sqlitePath, keys: keys, logger: logger)
            var parts = StoreParts(store: sqlite, keys: keys, spentLoginStates: MemorySpentLoginStateStore(), services: [sqlite], preparations: [])
            guard !existing else { return parts }
            // This process is the file's one gateway; other writers (`gatehouse sessions`) are watched for.
            guard let watch = SQLiteWriteWatch(store: sqlite, path: sessions.sqlitePath) else {
                logger.warning("The session database's directory cannot be watched for other writers; sessions are read from the file at every request")
                return parts
            }
            let cache = SessionCache()
            (parts.store, parts.cache) = (CachedSessionStore(base: sqlite, cache: cache, coherence: watch), cache)
            return parts
        case .postgres:
            guard let url = sessions.postgresURL, let key = sessions.encryptionKey else {
                throw ConfigurationError(problems: [
                    .init(key: "sessions", message: "the postgres store needs postgresURL and encryptionKey", fix: "set both")
                ])
            }
            let keys = try SessionKeys(keyBytes: key)
            let client = try PostgresSessionStore.makeClient(url: url, logger: logger)
            let postgres = PostgresSessionStore(client: client, keys: keys, logger: logger)
            let server = (try? PostgresSessionStore.makeClientConfiguration(url: url)).map { "\($0.host ?? "?"):\($0.port ?? 5432)" } ?? "?"
            let migrate: @Sendable () async throws -> Void = {
                do {
                    try await postgres.migrate()
                } catch {
                    throw StartupError(
                        description: "the PostgreSQL session store at \(server) could not be prepared (\(type(of: error))): "
                            + "check that the server is up, that sessions.postgresURL is right, and that its user may create tables"
                    )
                }
            }
            // Instances on one database stamp sessions by its clock, sampled once ready and then now and again.
            let clock = DatabaseClock(logger: logger, serverTime: { try await postgres.serverTime() })
            let sampleClock: @Sendable () async throws -> Void = {
                do {
                    try await clock.sample()
                } catch {
                    logger.warning("Reading the database server's clock failed; sessions follow this machine's until it can be read")
                }
            }
            var parts = StoreParts(
                store: postgres,
                keys: keys,
                spentLoginStates: PostgresSpentLoginStateStore(client: client, logger: logger),
                services: [client, clock],
                preparations: [migrate, sampleClock],
                clock: { clock.now() }
            )
            guard !existing else { return parts }
            // Other instances' writes arrive as notifications; until they flow, nothing is read from the cache.
            let cache = SessionCache(trusted: false)
            parts.services.append(PostgresSessionChanges(client: client, cache: cache, logger: logger))
            (parts.store, parts.cache) = (CachedSessionStore(base: postgres, cache: cache), cache)
            return parts
        }
    }
}

/// Why the gateway could not start; says what to check, never a secret.
public struct StartupError: Error, CustomStringConvertible {
    public let description: String
}
