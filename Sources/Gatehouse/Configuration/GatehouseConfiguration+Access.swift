extension GatehouseConfiguration {
    /// Who may pass, what `/auth` believes of a proxy, and what it tells the app (contract §9).
    public struct Access: Sendable, Equatable {
        public var policy = AccessPolicy()
        /// The profile member holding the user's groups; `nil` for the provider's own
        /// (`groups` with OpenID Connect, `Roles` with LoginRadius).
        public var groupsClaim: String?
        public var trustedProxies = TrustedProxies.loopback
        /// Whether `/auth` hands the app the access token (`X-Auth-Request-Access-Token` and
        /// `Authorization: Bearer`).
        public var passAccessToken = false

        /// Where the profile of `provider` keeps groups, the email's verification and a username.
        public func claimNames(for provider: Provider.Kind) -> ProfileClaimNames {
            var names: ProfileClaimNames = provider == .openIDConnect ? .openIDConnect : .loginRadius
            if let groupsClaim { names.groups = groupsClaim }
            return names
        }
    }
}

extension GatehouseConfiguration.Access {
    /// ## Configuration keys
    /// - `allowEmails`, `allowEmailDomains`, `allowGroups` (lists, none by default: everyone who
    ///   signs in passes), `requireVerifiedEmail` (default `true`), `groupsClaim` (default the
    ///   provider's), `trustedProxies` (default `["127.0.0.0/8", "::1/128"]`), `passAccessToken`
    ///   (default `false`).
    /// - `routes`: a list of `pathPrefix` (required), `policy` (`public` or `authenticated`, the
    ///   default) and the prefix's own `allowEmails`, `allowEmailDomains`, `allowGroups`.
    public init(reader: SettingsReader) {
        let verified = reader.bool("requireVerifiedEmail", default: true, hint: "true or false") ?? true
        let rule = Self.rule(reader, requireVerifiedEmail: verified) ?? AccessRule(requireVerifiedEmail: verified)
        let routes = reader.list("routes", presentKey: "pathPrefix", hint: #"a list such as [{"pathPrefix": "/public/", "policy": "public"}]"#) {
            Self.route($0, requireVerifiedEmail: verified)
        }
        var seen: Set<String> = []
        for route in routes where !seen.insert(route.pathPrefix).inserted {
            reader.problem("routes", "lists the pathPrefix \"\(route.pathPrefix)\" twice", fix: "keep one entry per access.routes pathPrefix")
        }
        policy = AccessPolicy(sessionRule: rule, routes: routes)
        if policy.requirement(forPath: "/") == .public, routes.contains(where: { $0.requirement != .public }) {
            reader.warning(
                "routes",
                "makes / public: /auth checks / when it cannot believe the forwarded path (a proxy outside trustedProxies), so such requests pass",
                fix: "make / authenticated and list the public prefixes, or be sure access.trustedProxies names every proxy"
            )
        }
        groupsClaim = reader.string("groupsClaim", hint: #"the claim or profile field holding the groups, e.g. "groups" or "Roles""#)
        if groupsClaim?.isEmpty == true { reader.problem("groupsClaim", "is empty", hint: #"a claim name such as "groups""#) }
        let ranges = reader.strings(
            "trustedProxies",
            default: ["127.0.0.0/8", "::1/128"],
            hint: #"a list of CIDR ranges such as ["127.0.0.1/32", "10.0.0.0/8"]"#
        )
        switch TrustedProxies.parse(ranges ?? []) {
        case .success(let parsed): trustedProxies = parsed
        case .failure(let invalid):
            reader.problem(
                "trustedProxies",
                "\"\(invalid.entry.prefix(60))\" is not an address or CIDR range",
                hint: #"CIDR ranges such as ["127.0.0.1/32", "::1/128"]"#
            )
        }
        passAccessToken = reader.bool("passAccessToken", default: false, hint: "true or false") ?? false
    }

    /// The lists of a rule, `nil` when none is set.
    private static func rule(_ reader: SettingsReader, requireVerifiedEmail: Bool) -> AccessRule? {
        let emails = reader.strings("allowEmails", hint: #"a list such as ["ada@example.com"]"#) ?? []
        for email in emails where !email.contains("@") {
            reader.problem("allowEmails", "\"\(email.prefix(100))\" is not an email address", hint: #"a list such as ["ada@example.com"]"#)
        }
        let domains = reader.strings("allowEmailDomains", hint: #"a list such as ["example.com"]"#) ?? []
        for domain in domains where domain.contains("@") || domain.hasPrefix(".") {
            reader.problem("allowEmailDomains", "\"\(domain.prefix(100))\" is not a bare domain", hint: #"the part after @, such as ["example.com"]"#)
        }
        let groups = reader.strings("allowGroups", hint: #"a list such as ["admins", "ops"]"#) ?? []
        let rule = AccessRule(allowEmails: emails, allowEmailDomains: domains, allowGroups: groups, requireVerifiedEmail: requireVerifiedEmail)
        return rule.admitsEveryone ? nil : rule
    }

    private enum RoutePolicy: String, CaseIterable {
        case `public`, authenticated
    }

    private static func route(_ reader: SettingsReader, requireVerifiedEmail: Bool) -> AccessPolicy.Route? {
        let hint = #"a path such as "/admin/""#
        let prefix = reader.string("pathPrefix", hint: hint)
        let policy = reader.choice("policy", default: RoutePolicy.authenticated)
        let rule = Self.rule(reader, requireVerifiedEmail: requireVerifiedEmail)
        guard let prefix else { return nil }
        guard RequestPath.normalized(prefix).map({ $0 == prefix || $0 + "/" == prefix }) == true else {
            reader.problem("pathPrefix", "must be a normalized path starting with /", hint: hint)
            return nil
        }
        switch (policy, rule) {
        case (nil, _): return nil
        case (.public?, _?):
            reader.problem(
                "policy",
                "is public, yet the entry lists who may pass",
                fix: "remove the lists, or the policy \"public\", of \(reader.key("policy"))"
            )
            return nil
        case (.public?, nil): return .init(pathPrefix: prefix, requirement: .public)
        case (.authenticated?, nil): return .init(pathPrefix: prefix, requirement: .authenticated)
        case (.authenticated?, let rule?): return .init(pathPrefix: prefix, requirement: .rules(rule))
        }
    }
}
