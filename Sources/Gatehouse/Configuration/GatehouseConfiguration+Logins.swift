extension GatehouseConfiguration {
    /// What a login may cost: anyone can start one, so each client's rate and the provider calls
    /// all logins make at once are bounded.
    public struct Logins: Sendable, Equatable {
        /// Requests one client may make a minute to `/login` and `/register`, and as many to the callbacks.
        public var perClientPerMinute = 120
        /// Provider calls logins may have in flight at once; more fail at once with 503.
        public var providerCallsAtOnce = 16
    }
}

extension GatehouseConfiguration.Logins {
    /// ## Configuration keys
    /// - `perClientPerMinute` (default `120`): per client address (``ClientAddress``), for `/login`
    ///   and `/register`, and apart from them for the callbacks, in bursts of up to half as many
    ///   (at least 10); more get 429 with `Retry-After`.
    /// - `providerCallsAtOnce` (default `16`): beyond them a login gets 503 with `Retry-After`,
    ///   and signed-in users' revalidations keep the rest of the provider connections.
    public init(reader: SettingsReader) {
        self.init()
        perClientPerMinute =
            reader.integer("perClientPerMinute", default: perClientPerMinute, in: 1...1_000_000, hint: "a number of requests, e.g. 120") ?? perClientPerMinute
        providerCallsAtOnce =
            reader.integer(
                "providerCallsAtOnce",
                default: providerCallsAtOnce,
                in: 1...48,
                hint: "a number of calls up to 48 (of the 64 provider connections), e.g. 16"
            ) ?? providerCallsAtOnce
    }
}
