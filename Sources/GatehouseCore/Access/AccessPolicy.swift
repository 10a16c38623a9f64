/// The access rules of a gateway: the rules every session must pass (they decide who may sign in
/// at all), and what each path prefix asks for.
public struct AccessPolicy: Sendable, Equatable {
    /// What a path asks of a request.
    public enum Requirement: Sendable, Equatable {
        /// Anyone, signed in or not.
        case `public`
        /// Any live session.
        case authenticated
        /// A live session whose user passes these rules (they replace the top-level lists).
        case rules(AccessRule)
    }

    /// A path prefix and its requirement.
    public struct Route: Sendable, Equatable {
        public var pathPrefix: String
        public var requirement: Requirement

        public init(pathPrefix: String, requirement: Requirement) {
            self.pathPrefix = pathPrefix
            self.requirement = requirement
        }
    }

    /// What every session must pass: at login, at each revalidation, and after a rule change.
    public var sessionRule: AccessRule
    /// Longest prefix first.
    public private(set) var routes: [Route]

    public init(sessionRule: AccessRule = AccessRule(), routes: [Route] = []) {
        self.sessionRule = sessionRule
        self.routes = routes.sorted { $0.pathPrefix.utf8.count > $1.pathPrefix.utf8.count }
    }

    /// The requirement of the longest prefix `path` starts with; `authenticated` when none does.
    /// A prefix ending in `/` also covers the path without it (`/admin/` covers `/admin`).
    /// `path` should be normalized first (``RequestPath/normalized(_:)``).
    public func requirement(forPath path: String) -> Requirement {
        routes.first { route in
            path.hasPrefix(route.pathPrefix) || (route.pathPrefix.hasSuffix("/") && path == route.pathPrefix.dropLast())
        }?.requirement ?? .authenticated
    }
}
