import HTTPTypes
import Hummingbird

/// A small, self-contained HTML page: escaped text in, a complete `text/html` response out.
///
/// Pages carry their own stylesheet and no script, so they render the same without JavaScript
/// and under a strict Content-Security-Policy.
struct HTMLPage: Sendable {
    var title: String
    /// Body markup. Build it with ``HTMLPage/escape(_:)`` around every value that is not ours.
    var body: String

    /// Escapes text for element content and quoted attribute values.
    static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    var html: String {
        """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(Self.escape(title))</title>
        <style>
        body { font: 16px/1.5 system-ui, sans-serif; max-width: 36rem; margin: 3rem auto; padding: 0 1rem; color: #1d2430; }
        h1 { font-size: 1.5rem; } h2 { font-size: 1.1rem; margin-top: 2rem; }
        .card { border: 1px solid #d5dae1; border-radius: 8px; padding: 1rem 1.25rem; margin: 0.75rem 0; }
        button, input[type=submit], a.button { font: inherit; padding: 0.4rem 0.9rem; border-radius: 6px; border: 1px solid #2f5fd0; background: #2f5fd0; color: #fff; cursor: pointer; }
        a.button { display: inline-block; text-decoration: none; }
        input[type=text], input[type=email] { font: inherit; padding: 0.35rem 0.5rem; width: 100%; box-sizing: border-box; margin: 0.2rem 0 0.6rem; }
        .muted { color: #5b6575; font-size: 0.9rem; }
        form.inline { display: inline; }
        </style>
        </head>
        <body>
        \(body)
        </body>
        </html>
        """
    }

    func response(status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentType] = "text/html; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }
}
