import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// Turns every error into the contract's error answer: `{"error": CODE, "message": TEXT}`, or a
/// short HTML page with the same text and a link to `/login` when the request accepts `text/html`.
///
/// Unknown errors become a 500 whose body says nothing about their cause; the log gets the type.
struct ErrorPageMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as GatewayError {
            return ErrorResponse.make(error, for: request)
        } catch let error as any HTTPResponseError {
            return ErrorResponse.make(Self.gatewayError(for: error), for: request)
        } catch {
            context.logger.error("Unhandled error", metadata: ["error.type": "\(type(of: error))", "path": "\(request.uri.path)"])
            return ErrorResponse.make(
                GatewayError(.internalServerError, code: "internal_error", message: "Something went wrong inside the gateway."),
                for: request
            )
        }
    }

    private static func gatewayError(for error: any HTTPResponseError) -> GatewayError {
        switch error.status {
        case .notFound:
            GatewayError(.notFound, code: "not_found", message: "There is nothing at this address.")
        case .methodNotAllowed:
            GatewayError(.methodNotAllowed, code: "method_not_allowed", message: "This address does not answer that method.")
        case .contentTooLarge:
            GatewayError(.contentTooLarge, code: "request_too_large", message: "The request is too large.")
        default:
            GatewayError(error.status, code: "http_\(error.status.code)", message: error.status.reasonPhrase)
        }
    }
}
