#!/usr/bin/env python3
"""A small app for the proxy tests, on Python's http.server (a non-Swift upstream).

  GET  /download?bytes=N  N bytes (a repeating pattern), streamed in 64 KiB writes, Content-Length N
  GET  /slow?seconds=S    answers after S seconds
  GET  /redirect          302 to /elsewhere, with an app cookie and one named like the gateway's
  GET  /hop               an answer carrying hop-by-hop headers
  POST /refuse, /early    413 or 200 before reading the body, then closes
  any other path/method   JSON: method, target, headers as received ([[name, value], ...]),
                          and the body's length and SHA-256 (read in 64 KiB pieces, chunked or not,
                          pausing ?pause=S seconds before each: a slow reader)

Listens on 127.0.0.1 (any free port) or a Unix socket, and prints "listening on PORT" (or on
the socket's path) once it accepts connections.
"""
import argparse
import hashlib
import http.server
import json
import os
import socketserver
import time
import urllib.parse

PIECE = 64 * 1024
PATTERN = bytes(range(256)) * (PIECE // 256)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        pass

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        if url.path == "/download":
            self.download(int(query.get("bytes", ["0"])[0]))
        elif url.path == "/slow":
            time.sleep(float(query.get("seconds", ["1"])[0]))
            self.answer(200, b"slow\n", "text/plain")
        elif url.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "/elsewhere?from=app")
            self.send_header("Set-Cookie", "app_cookie=kept; Path=/")
            self.send_header("Set-Cookie", "gatehouse_session=from-the-app; Path=/")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif url.path == "/hop":
            body = b"hop\n"
            self.send_response(200)
            self.send_header("Connection", "X-App-Hop")
            self.send_header("X-App-Hop", "connection-scoped")
            self.send_header("Keep-Alive", "timeout=5")
            self.send_header("Proxy-Authenticate", "Basic")
            self.send_header("Trailer", "X-Checksum")
            self.send_header("Upgrade", "h2c")
            self.send_header("X-App-End-To-End", "kept")
            self.send_header("X-Frame-Options", "SAMEORIGIN")
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            self.echo()

    def do_POST(self):
        path = urllib.parse.urlsplit(self.path).path
        if path in ("/refuse", "/early"):
            # Answers before reading the body, and closes: what is left of it is never read.
            body = b"refused\n" if path == "/refuse" else b"early\n"
            self.send_response(413 if path == "/refuse" else 200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)
            self.close_connection = True
        else:
            self.echo()

    do_PUT = do_PATCH = do_DELETE = do_OPTIONS = lambda self: self.echo()

    def do_HEAD(self):
        self.send_response(200)
        self.send_header("Content-Length", "42")
        self.end_headers()

    def download(self, total):
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(total))
        self.end_headers()
        sent = 0
        while sent < total:
            piece = PATTERN[: min(PIECE, total - sent)]
            self.wfile.write(piece)
            sent += len(piece)

    def body_pieces(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return
                left = size
                while left:
                    piece = self.rfile.read(min(PIECE, left))
                    left -= len(piece)
                    yield piece
                self.rfile.readline()
        left = int(self.headers.get("Content-Length", "0"))
        while left:
            piece = self.rfile.read(min(PIECE, left))
            if not piece:
                return
            left -= len(piece)
            yield piece

    def echo(self):
        pause = float(urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query).get("pause", ["0"])[0])
        digest = hashlib.sha256()
        length = 0
        for piece in self.body_pieces():
            if pause:
                time.sleep(pause)
            digest.update(piece)
            length += len(piece)
        answer = {
            "method": self.command,
            "target": self.path,
            "headers": [[name, value] for name, value in self.headers.items()],
            "bodyBytes": length,
            "bodySHA256": digest.hexdigest(),
        }
        self.answer(200, json.dumps(answer).encode(), "application/json")

    def answer(self, status, body, content_type):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "max-age=60")
        self.end_headers()
        self.wfile.write(body)


class TCPServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


class UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def get_request(self):
        connection, _ = super().get_request()
        return connection, ("unix", 0)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--unix")
    arguments = parser.parse_args()
    if arguments.unix:
        if os.path.exists(arguments.unix):
            os.unlink(arguments.unix)
        server = UnixServer(arguments.unix, Handler)
        where = arguments.unix
    else:
        server = TCPServer(("127.0.0.1", 0), Handler)
        where = str(server.server_address[1])
    print(f"listening on {where}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
