import Foundation

/// The mock provider's state: its users and the tokens it has issued.
///
/// Both faces of the mock share one directory: the in-process ``MockDirectoryAPI`` and the
/// HTTP API of ``MockProviderController``. Tokens expire after ``Configuration/tokenLifetime`` and
/// can be invalidated, as on the real service; registered users last as long as the directory.
/// Both are bounded, so a script that registers and signs in without end cannot grow its memory.
public actor MockDirectory {
    /// How the mock behaves.
    public struct Configuration: Sendable {
        /// How long an issued token stays valid.
        public var tokenLifetime: Duration
        /// The API key the mock insists on; `nil` accepts any non-empty key.
        public var apiKey: String?
        /// Users the registration page may add; beyond them it refuses.
        public var maximumRegisteredUsers: Int
        /// Issued tokens live at once (expired ones are dropped first); beyond them logins are refused.
        public var maximumLiveTokens: Int

        public init(tokenLifetime: Duration = .seconds(3600), apiKey: String? = nil, maximumRegisteredUsers: Int = 1000, maximumLiveTokens: Int = 20_000) {
            self.tokenLifetime = tokenLifetime
            self.apiKey = apiKey
            self.maximumRegisteredUsers = maximumRegisteredUsers
            self.maximumLiveTokens = maximumLiveTokens
        }
    }

    private struct IssuedToken {
        var userID: String
        var expiresAt: Date
    }

    public let configuration: Configuration
    private let now: @Sendable () -> Date
    /// The users in fixture order, each with its profile object already encoded, as the API sends it.
    private var profiles: [UserProfile]
    private var profileIndex: [String: Int]
    private var registeredCount = 0
    private var tokens: [String: IssuedToken] = [:]
    private var tokenFamilies: [(prefix: String, userID: String)] = []
    private var fault: MockFault?
    private var faultRate = 1.0

    /// How many profile fetches the API has answered (including failed ones), for tests and benchmarks.
    public private(set) var profileFetchCount = 0
    /// How many invalidations the API has answered.
    public private(set) var invalidationCount = 0
    /// How many API requests have arrived (counted before any fault delays them).
    public private(set) var apiRequestCount = 0
    private var requestWaiters: [(count: Int, continuation: CheckedContinuation<Void, Never>)] = []

    /// - Parameter users: LoginRadius-shaped profile objects, each with a `Uid`.
    public init(users: [[String: JSONValue]], configuration: Configuration = .init(), now: @escaping @Sendable () -> Date = Date.init) {
        self.profiles = users.compactMap(UserProfile.init(loginRadiusProfile:))
        self.profileIndex = Dictionary(profiles.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { first, _ in first })
        self.configuration = configuration
        self.now = now
    }

    // MARK: - Users

    /// The users a browser can sign in as, in fixture order.
    public var users: [UserProfile] {
        profiles
    }

    /// The user with this id, if there is one.
    public func user(withID id: String) -> UserProfile? {
        profileIndex[id].map { profiles[$0] }
    }

    /// Adds a user, as the hosted registration page does, and returns them; `nil` once
    /// ``Configuration/maximumRegisteredUsers`` have registered.
    public func register(firstName: String, lastName: String, email: String) -> UserProfile? {
        guard registeredCount < configuration.maximumRegisteredUsers else { return nil }
        registeredCount += 1
        let fullName = [firstName, lastName].filter { !$0.isEmpty }.joined(separator: " ")
        let profile: [String: JSONValue] = [
            "Uid": .string(Self.randomHex()),
            "ID": .string(Self.randomHex()),
            "Provider": .string("Email"),
            "RegistrationProvider": .string("Email"),
            "FirstName": .string(firstName),
            "LastName": .string(lastName),
            "FullName": .string(fullName),
            "UserName": .string(email.split(separator: "@").first.map(String.init) ?? email),
            "Email": .array([.object(["Type": .string("Primary"), "Value": .string(email)])]),
            "EmailVerified": .bool(false),
            "IsActive": .bool(true),
            "ImageUrl": .null,
            "NoOfLogins": .integer(0),
            "CreatedDate": .string(ISO8601DateFormatter().string(from: now())),
        ]
        // The profile has a Uid by construction.
        let user = UserProfile(loginRadiusProfile: profile)!
        profileIndex[user.id] = profiles.count
        profiles.append(user)
        return user
    }

    /// Replaces a user's roles (`Roles`, what access rules read as groups), as an administrator
    /// would at the provider; live tokens see the new profile. `false` for an unknown user.
    @discardableResult
    public func setRoles(_ roles: [String], forUserID id: String) -> Bool {
        guard let index = profileIndex[id] else { return false }
        var attributes = profiles[index].attributes
        attributes["Roles"] = .array(roles.map(JSONValue.string))
        guard let updated = UserProfile(loginRadiusProfile: attributes) else { return false }
        profiles[index] = updated
        return true
    }

    // MARK: - Tokens

    /// Issues a fresh token for a user, as a successful hosted login does; `nil` for an unknown
    /// user, or when ``Configuration/maximumLiveTokens`` are live.
    public func issueToken(forUserID userID: String) -> AccessToken? {
        guard profileIndex[userID] != nil else { return nil }
        if tokens.count >= configuration.maximumLiveTokens {
            let date = now()
            tokens = tokens.filter { $0.value.expiresAt > date }
            guard tokens.count < configuration.maximumLiveTokens else { return nil }
        }
        let token = UUID().uuidString.lowercased()
        tokens[token] = IssuedToken(userID: userID, expiresAt: now().addingTimeInterval(Self.seconds(configuration.tokenLifetime)))
        return AccessToken(token)
    }

    /// Accepts `token` for a user until it is invalidated, whatever the token lifetime: a known
    /// token for scripts and benchmarks. `false` for an unknown user or a malformed token.
    @discardableResult
    /// Whether a fixture user has this id.
    public func hasUser(_ userID: String) -> Bool {
        profileIndex[userID] != nil
    }

    public func addFixedToken(_ token: AccessToken, forUserID userID: String) -> Bool {
        guard profileIndex[userID] != nil else { return false }
        tokens[token.value] = IssuedToken(userID: userID, expiresAt: .distantFuture)
        return true
    }

    /// Accepts every token that begins with `prefix` for a user, until each is invalidated: a
    /// family of known tokens for benchmarks, where every login must bring a token of its own.
    /// `false` for an unknown user.
    @discardableResult
    public func addTokenFamily(prefix: String, forUserID userID: String) -> Bool {
        guard profileIndex[userID] != nil, !prefix.isEmpty else { return false }
        tokenFamilies.append((prefix, userID))
        return true
    }

    /// The user a token belongs to while it is live (issued, not expired, not invalidated).
    public func liveUserID(forToken token: String) -> String? {
        guard let issued = tokens[token], issued.expiresAt > now() else { return nil }
        return issued.userID
    }

    /// Ends a token's life early, as if its lifetime had run out.
    public func expire(_ token: AccessToken) {
        tokens[token.value]?.expiresAt = .distantPast
    }

    /// Makes the API answer with a fault instead of its normal answer; `nil` restores normal answers.
    /// - Parameter rate: the share of API requests the fault applies to (1: all of them).
    public func setFault(_ fault: MockFault?, rate: Double = 1) {
        self.fault = fault
        faultRate = rate
    }

    /// The fault in force for this request: with a rate under 1, only now and then.
    private var faultForThisRequest: MockFault? {
        guard let fault else { return nil }
        return faultRate >= 1 || Double.random(in: 0..<1) < faultRate ? fault : nil
    }

    /// The fault the API currently answers with.
    public var currentFault: MockFault? { fault }

    /// Notes that an API request arrived, waking whoever waits for it.
    private func noteAPIRequest() {
        apiRequestCount += 1
        let ready = requestWaiters.filter { $0.count <= apiRequestCount }
        requestWaiters.removeAll { $0.count <= apiRequestCount }
        for waiter in ready { waiter.continuation.resume() }
    }

    /// Returns once at least `count` API requests have arrived: lets a test act while a request is in flight.
    public func waitForAPIRequests(_ count: Int) async {
        guard apiRequestCount < count else { return }
        await withCheckedContinuation { requestWaiters.append((count, $0)) }
    }

    // MARK: - API

    /// What becomes of an API request: the fault in force, or the answer.
    public enum APIReception: Sendable {
        case fault(MockFault)
        case answer(MockAPIAnswer)
    }

    /// Counts an API request of the mock's OpenID Connect side and returns the fault in force, if any.
    public func receiveRequest() -> MockFault? {
        noteAPIRequest()
        return faultForThisRequest
    }

    /// Counts an API request and decides it in one step, so that a request costs the server one
    /// trip to the directory: the fault in force if there is one, else the endpoint's answer.
    public func receive(_ endpoint: LoginRadiusEndpoint, apiKey: String?, token: String?) -> APIReception {
        noteAPIRequest()
        if let fault = faultForThisRequest { return .fault(fault) }
        return .answer(answer(endpoint, apiKey: apiKey, token: token))
    }

    /// The endpoint's normal answer (after a fault that only delays, for instance).
    public func answer(_ endpoint: LoginRadiusEndpoint, apiKey: String?, token: String?) -> MockAPIAnswer {
        switch endpoint {
        case .profile: profile(apiKey: apiKey, token: token)
        case .invalidate: invalidate(apiKey: apiKey, token: token)
        case .validate: validate(apiKey: apiKey, token: token)
        }
    }

    /// Checks the API key the way LoginRadius does; `nil` when it is acceptable.
    public func apiKeyError(_ apiKey: String?) -> LoginRadiusErrorBody? {
        guard let apiKey, !apiKey.isEmpty else { return .apiKeyMissing }
        if let expected = configuration.apiKey, expected != apiKey { return .apiKeyInvalid }
        return nil
    }

    /// `GET /identity/v2/auth/account`.
    public func profile(apiKey: String?, token: String?) -> MockAPIAnswer {
        profileFetchCount += 1
        switch check(apiKey: apiKey, token: token) {
        case .failure(let error):
            return .error(error)
        case .success(let issued):
            guard let index = profileIndex[issued.userID] else { return .error(.tokenInvalid) }
            return .ok(encoded: profiles[index].json)
        }
    }

    /// `GET /identity/v2/auth/access_token/invalidate`.
    public func invalidate(apiKey: String?, token: String?) -> MockAPIAnswer {
        invalidationCount += 1
        switch check(apiKey: apiKey, token: token) {
        case .failure(let error):
            return .error(error)
        case .success:
            // A family's token is remembered as ended; any other is forgotten.
            if let token { tokens[token] = tokenFamilies.contains { token.hasPrefix($0.prefix) } ? IssuedToken(userID: "", expiresAt: .distantPast) : nil }
            return .ok(.object(["IsPosted": .bool(true)]))
        }
    }

    /// `GET /identity/v2/auth/access_token/validate`.
    public func validate(apiKey: String?, token: String?) -> MockAPIAnswer {
        switch check(apiKey: apiKey, token: token) {
        case .failure(let error):
            return .error(error)
        case .success(let issued):
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            return .ok(.object(["access_token": .string(token ?? ""), "expires_in": .string(formatter.string(from: issued.expiresAt))]))
        }
    }

    private func check(apiKey: String?, token: String?) -> Result<IssuedToken, LoginRadiusErrorBody> {
        if let error = apiKeyError(apiKey) { return .failure(error) }
        guard let token, !token.isEmpty else { return .failure(.tokenMissing) }
        if let issued = tokens[token] {
            guard issued.expiresAt > now() else { return .failure(.tokenExpired) }
            return .success(issued)
        }
        guard let family = tokenFamilies.first(where: { token.hasPrefix($0.prefix) }) else { return .failure(.tokenInvalid) }
        return .success(IssuedToken(userID: family.userID, expiresAt: .distantFuture))
    }

    // MARK: - Helpers

    private static func randomHex() -> String {
        UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
    }

    static func seconds(_ duration: Duration) -> TimeInterval {
        let (seconds, attoseconds) = duration.components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }
}

extension LoginRadiusErrorBody: Error {}
