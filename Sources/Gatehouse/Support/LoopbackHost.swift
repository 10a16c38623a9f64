/// Host names and addresses that can only be reached from this machine.
enum LoopbackHost {
    /// Whether `host` (a name, an IPv4 address, or an IPv6 one with or without brackets) is this machine's.
    static func contains(_ host: String) -> Bool {
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        if bare.lowercased() == "localhost" || bare == "::1" { return true }
        let octets = bare.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
    }
}
