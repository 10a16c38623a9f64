/// What a gated request tells the app about its user, through forward auth's `X-Auth-Request-*`
/// or the proxy's `X-Forwarded-*`: each value only when a header can carry it unchanged
/// (printable ASCII, no surrounding spaces).
struct PassedIdentity: Sendable, Equatable {
    let user: String
    /// Not one the provider says is unverified, unless `requireVerifiedEmail` is off (an app may
    /// key accounts on it).
    let email: String?
    /// Comma-joined; a group holding a comma is left out.
    let groups: String?
    let preferredUsername: String?
    /// Only when asked for.
    let accessToken: String?

    /// `nil` when the user id cannot be carried: nothing passes without it.
    init?(_ identity: AccessIdentity, session: Session, passAccessToken: Bool, requireVerifiedEmail: Bool) {
        guard Self.isHeaderSafe(identity.userID) else { return nil }
        user = identity.userID
        email = identity.email.flatMap { email in
            Self.isHeaderSafe(email) && (identity.emailVerified != false || !requireVerifiedEmail) ? email : nil
        }
        let groups = identity.groups.filter { Self.isHeaderSafe($0) && !$0.contains(",") }
        self.groups = groups.isEmpty ? nil : groups.joined(separator: ",")
        preferredUsername = identity.preferredUsername.flatMap { Self.isHeaderSafe($0) ? $0 : nil }
        let token = session.credentials.accessToken.value
        accessToken = passAccessToken && Self.isHeaderSafe(token) ? token : nil
    }

    private static func isHeaderSafe(_ value: String) -> Bool {
        !value.isEmpty && value.utf8.allSatisfy { (0x20...0x7E).contains($0) } && value.first != " " && value.last != " "
    }
}
