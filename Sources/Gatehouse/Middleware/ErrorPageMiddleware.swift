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
            return Self.render(error, for: request)
        } catch let error as any HTTPResponseError {
            return Self.render(Self.gatewayError(for: error), for: request)
        } catch {
            context.logger.error("Unhandled error", metadata: ["error.type": "\(type(of: error))", "path": "\(request.uri.path)"])
            return Self.render(GatewayError(.internalServerError, code: "internal_error", message: "Something went wrong inside the gateway."), for: request)
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

    static func render(_ error: GatewayError, for request: Request) -> Response {
        var headers = error.headers
        headers[.cacheControl] = "no-store"
        if ClientPreference.wantsHTML(request.headers) {
            let page = HTMLPage(
                title: error.status.reasonPhrase,
                body: """
                    <h1>\(HTMLPage.escape(error.status.reasonPhrase))</h1>
                    <p>\(HTMLPage.escape(error.message))</p>
                    <p><a href="/login">Sign in</a></p>
                    """
            )
            return page.response(status: error.status, headers: headers)
        }
        return JSONResponse.make(status: error.status, headers: headers, ["error": .string(error.code), "message": .string(error.message)])
    }
}

/// JSON bodies for Gatehouse's answers.
enum JSONResponse {
    static func make(status: HTTPResponse.Status = .ok, headers: HTTPFields = [:], _ object: [String: JSONValue]) -> Response {
        make(status: status, headers: headers, encoded: JSONValue.object(object).encoded())
    }

    static func make(status: HTTPResponse.Status = .ok, headers: HTTPFields = [:], encoded: Data) -> Response {
        var headers = headers
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: encoded)))
    }
}
