import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

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
