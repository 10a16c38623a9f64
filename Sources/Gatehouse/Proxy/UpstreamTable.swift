/// Which upstream, if any, claims a request: the longest prefix its normalized path starts with
/// (a prefix ending in `/` also covers the path without it), unless Gatehouse answers the path
/// itself (``GatewayOwnPaths``).
struct UpstreamTable<Value: Sendable>: Sendable {
    /// Longest prefix first.
    private let entries: [(pathPrefix: String, value: Value)]
    /// Prefixes of this gateway's own besides ``GatewayOwnPaths`` (the mock provider's mount).
    private let ownPrefixes: [String]

    init(_ entries: [(pathPrefix: String, value: Value)], ownPrefixes: [String]) {
        self.entries = entries.sorted { $0.pathPrefix.utf8.count > $1.pathPrefix.utf8.count }
        self.ownPrefixes = ownPrefixes
    }

    var isEmpty: Bool { entries.isEmpty }

    /// The value of the upstream claiming `requestTarget` (a path and query as sent), if any.
    func claim(_ requestTarget: String?) -> Value? {
        guard !entries.isEmpty, let path = requestTarget.flatMap(RequestPath.normalized), !GatewayOwnPaths.contains(path, extra: ownPrefixes) else {
            return nil
        }
        return entries.first { entry in
            path.hasPrefix(entry.pathPrefix) || (entry.pathPrefix.hasSuffix("/") && path == entry.pathPrefix.dropLast())
        }?.value
    }
}
