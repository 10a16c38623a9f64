import Foundation

/// Reads LoginRadius API answers (status and body) into results or ``ProviderError``s.
///
/// Kept free of I/O so every answer shape can be tested, and fuzzed, without a server. An answer
/// is decoded once, into ``LoginRadiusAnswer`` (the handful of members the gateway reads); the
/// profile object itself is kept as the text the provider sent.
public enum LoginRadiusResponse {
    /// Error codes meaning the token itself is bad: invalid (905), expired (906), missing (1060).
    static let tokenRejectedCodes: Set<Int64> = [905, 906, 1060]
    /// Error codes meaning the gateway's credentials are bad: API key unauthorized (901),
    /// API secret unauthorized (902), API key missing (922).
    static let misconfigurationCodes: Set<Int64> = [901, 902, 922]

    /// Reads the answer to a profile fetch.
    ///
    /// - Parameter current: the profile the token's session holds, when this is a revalidation. A
    ///   successful answer whose body is byte for byte the text `current` was read from is
    ///   `current` (the same bytes parse the same way), returned without decoding again.
    public static func profile(status: Int, body: some DataProtocol, current: UserProfile? = nil) throws(ProviderError) -> UserProfile {
        let text = Data(body)
        if let current, (200..<300).contains(status), text == current.json {
            return current
        }
        let answer = try successAnswer(status: status, body: text)
        guard let id = answer.userID else {
            throw .badResponse(reason: "the provider's profile has no Uid or ID")
        }
        return UserProfile(id: id, email: answer.email, name: answer.displayName, json: try objectText(text))
    }

    /// Reads the answer to a token invalidation; success is `{"IsPosted": true}`.
    public static func invalidation(status: Int, body: some DataProtocol) throws(ProviderError) {
        let answer = try successAnswer(status: status, body: Data(body))
        guard answer.isPosted == true else {
            throw .badResponse(reason: "the provider did not confirm the invalidation (IsPosted is not true)")
        }
    }

    /// The decoded object of a successful answer, or the error the answer stands for.
    static func successAnswer(status: Int, body: Data) throws(ProviderError) -> LoginRadiusAnswer {
        if status == 429 {
            throw .rateLimited()
        }
        // Decodes any JSON object (every member is optional); fails for anything else.
        let answer = try? JSONDecoder().decode(LoginRadiusAnswer.self, from: body)
        if let answer, let code = answer.errorCode {
            throw error(code: code, status: status, message: answer.message)
        }
        switch status {
        case 200..<300:
            guard let answer else {
                let what = (try? JSONValue(parsing: body)).map { "JSON \($0.typeName)" } ?? "a body that is not JSON"
                throw .badResponse(reason: "the provider answered \(what) where an object was expected")
            }
            return answer
        case 300..<400:
            throw .badResponse(reason: "the provider answered with a redirect (HTTP \(status)), which is not followed")
        default:
            throw .badResponse(reason: "the provider answered HTTP \(status)")
        }
    }

    /// The profile object's text, ready to be embedded in another JSON document (``JSONObjectText``).
    static func objectText(_ body: Data) throws(ProviderError) -> Data {
        guard let text = JSONObjectText.strict(body) else {
            throw .badResponse(reason: "the provider answered a profile that is not strict JSON")
        }
        return text
    }

    private static func error(code: LoginRadiusAnswer.ErrorCode, status: Int, message: String?) -> ProviderError {
        guard case .number(let number) = code else {
            return .badResponse(reason: "the provider answered an ErrorCode that is not a number")
        }
        let summary = "the provider answered error \(number) (\(message ?? "no message"))"
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

/// The members of a LoginRadius answer the gateway reads, whichever answer it is (a profile, an
/// error, an invalidation). Every member is optional and a member of the wrong type reads as
/// absent, so any JSON object decodes.
struct LoginRadiusAnswer: Decodable {
    /// `ErrorCode`, which LoginRadius sends as a number (tolerated: a string of digits).
    enum ErrorCode {
        case number(Int64)
        /// Present, but not a whole number.
        case unreadable
    }

    struct EmailEntry: Decodable {
        let isObject: Bool
        let type: String?
        let value: String?

        private enum Member: String, CodingKey {
            case type = "Type"
            case value = "Value"
        }

        init(from decoder: any Decoder) throws {
            guard let members = try? decoder.container(keyedBy: Member.self) else {
                (isObject, type, value) = (false, nil, nil)
                return
            }
            (isObject, type, value) = (true, members.lenientString(.type), members.lenientString(.value))
        }
    }

    let errorCode: ErrorCode?
    let message: String?
    let userID: String?
    let email: String?
    let displayName: String?
    let isPosted: Bool?

    private enum Member: String, CodingKey {
        case errorCode = "ErrorCode"
        case message = "Message"
        case description = "Description"
        case uid = "Uid"
        case id = "ID"
        case email = "Email"
        case fullName = "FullName"
        case firstName = "FirstName"
        case lastName = "LastName"
        case userName = "UserName"
        case isPosted = "IsPosted"
    }

    init(from decoder: any Decoder) throws {
        let members = try decoder.container(keyedBy: Member.self)
        errorCode = members.contains(.errorCode) ? Self.errorCode(in: members) : nil
        message = members.lenientString(.message) ?? members.lenientString(.description)
        // `Uid` (or `ID`) is the user id.
        userID = [members.lenientString(.uid), members.lenientString(.id)].compactMap { $0 }.first { !$0.isEmpty }
        // The `Primary` entry of `Email`, else the first.
        let emails = ((try? members.decodeIfPresent([EmailEntry].self, forKey: .email)) ?? nil)?.filter(\.isObject) ?? []
        email = (emails.first { $0.type?.lowercased() == "primary" } ?? emails.first)?.value
        // `FullName`, else first and last name, else `UserName`.
        let joined = [members.lenientString(.firstName), members.lenientString(.lastName)].compactMap { $0 }.filter { !$0.isEmpty }
            .joined(separator: " ")
        displayName = [members.lenientString(.fullName), joined, members.lenientString(.userName)].compactMap { $0 }.first { !$0.isEmpty }
        isPosted = (try? members.decodeIfPresent(Bool.self, forKey: .isPosted)) ?? nil
    }

    private static func errorCode(in members: KeyedDecodingContainer<Member>) -> ErrorCode {
        if let number = try? members.decode(Int64.self, forKey: .errorCode) {
            return .number(number)
        }
        if let number = try? members.decode(Double.self, forKey: .errorCode), number.rounded() == number, abs(number) < 9e15 {
            return .number(Int64(number))
        }
        if let text = try? members.decode(String.self, forKey: .errorCode), let number = Int64(text) {
            return .number(number)
        }
        return .unreadable
    }
}

extension KeyedDecodingContainer {
    /// The member as a string; `nil` when absent, null or not a string.
    fileprivate func lenientString(_ key: Key) -> String? {
        (try? decodeIfPresent(String.self, forKey: key)) ?? nil
    }
}
