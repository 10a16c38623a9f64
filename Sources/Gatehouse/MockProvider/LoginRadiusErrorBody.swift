import Foundation

/// The error answers of the LoginRadius API, as the mock provider sends them.
public struct LoginRadiusErrorBody: Sendable, Equatable {
    /// The HTTP status LoginRadius answers with.
    public let status: Int
    /// LoginRadius's `ErrorCode`.
    public let code: Int
    /// LoginRadius's `Message`.
    public let message: String
    /// LoginRadius's `Description`.
    public let description: String

    public static let tokenInvalid = Self(
        status: 403,
        code: 905,
        message: "Access token is invalid",
        description: "The provided access token is invalid or expired."
    )
    public static let tokenExpired = Self(status: 403, code: 906, message: "Access token is expired", description: "The provided access token has expired.")
    public static let tokenMissing = Self(status: 400, code: 1060, message: "Access token is missing", description: "The access token is required.")
    public static let apiKeyInvalid = Self(status: 403, code: 901, message: "API key is invalid", description: "The API key is invalid or not authorized.")
    public static let apiKeyMissing = Self(status: 400, code: 922, message: "API key is missing", description: "The API key is required.")

    /// The JSON body, in LoginRadius's shape.
    public var json: JSONValue {
        .object([
            "Description": .string(description),
            "ErrorCode": .integer(Int64(code)),
            "Message": .string(message),
            "IsProviderError": .bool(false),
            "ProviderErrorResponse": .null,
        ])
    }
}

/// One answer of the mock provider's API: a status and an encoded JSON body.
public struct MockAPIAnswer: Sendable, Equatable {
    public var status: Int
    public var body: Data

    public static func ok(_ body: JSONValue) -> Self { .init(status: 200, body: body.encoded()) }
    /// A success whose body is already encoded (the mock encodes each profile once).
    public static func ok(encoded body: Data) -> Self { .init(status: 200, body: body) }
    public static func error(_ error: LoginRadiusErrorBody) -> Self { .init(status: error.status, body: error.json.encoded()) }
}
