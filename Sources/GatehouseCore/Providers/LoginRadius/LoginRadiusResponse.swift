import Foundation

/// Reads LoginRadius API answers (status and body) into results or ``ProviderError``s.
///
/// Kept free of I/O so every answer shape can be tested, and fuzzed, without a server.
public enum LoginRadiusResponse {
    /// Error codes meaning the token itself is bad: invalid (905), expired (906), missing (1060).
    static let tokenRejectedCodes: Set<Int64> = [905, 906, 1060]
    /// Error codes meaning the gateway's credentials are bad: API key unauthorized (901),
    /// API secret unauthorized (902), API key missing (922).
    static let misconfigurationCodes: Set<Int64> = [901, 902, 922]

    /// Reads the answer to a profile fetch.
    public static func profile(status: Int, body: some DataProtocol) throws(ProviderError) -> UserProfile {
        let object = try successObject(status: status, body: body)
        guard let profile = UserProfile(loginRadiusProfile: object) else {
            throw .badResponse(reason: "the provider's profile has no Uid or ID")
        }
        return profile
    }

    /// Reads the answer to a token invalidation; success is `{"IsPosted": true}`.
    public static func invalidation(status: Int, body: some DataProtocol) throws(ProviderError) {
        let object = try successObject(status: status, body: body)
        guard object["IsPosted"] == .bool(true) else {
            throw .badResponse(reason: "the provider did not confirm the invalidation (IsPosted is not true)")
        }
    }

    /// The JSON object of a successful answer, or the error the answer stands for.
    static func successObject(status: Int, body: some DataProtocol) throws(ProviderError) -> [String: JSONValue] {
        if status == 429 {
            throw .rateLimited()
        }
        let document = try? JSONValue(parsing: body)
        if let object = document?.objectValue, let code = object["ErrorCode"] {
            throw error(code: code, status: status, object: object)
        }
        switch status {
        case 200..<300:
            guard let object = document?.objectValue else {
                let what = document.map { "JSON \($0.typeName)" } ?? "a body that is not JSON"
                throw .badResponse(reason: "the provider answered \(what) where an object was expected")
            }
            return object
        case 300..<400:
            throw .badResponse(reason: "the provider answered with a redirect (HTTP \(status)), which is not followed")
        default:
            throw .badResponse(reason: "the provider answered HTTP \(status)")
        }
    }

    private static func error(code: JSONValue, status: Int, object: [String: JSONValue]) -> ProviderError {
        let number = code.integerValue ?? code.stringValue.flatMap { Int64($0) }
        let message = object["Message"]?.stringValue ?? object["Description"]?.stringValue ?? "no message"
        let summary = "the provider answered error \(number.map(String.init) ?? "?") (\(message))"
        guard let number else {
            return .badResponse(reason: "the provider answered an ErrorCode that is not a number")
        }
        let providerCode = Int(clamping: number)
        if tokenRejectedCodes.contains(number) {
            return .tokenRejected(code: providerCode, reason: summary)
        }
        if misconfigurationCodes.contains(number) {
            return .misconfigured(code: providerCode, reason: summary)
        }
        if status == 429 {
            return .rateLimited()
        }
        return .badResponse(code: providerCode, reason: summary)
    }
}
