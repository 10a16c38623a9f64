import Foundation
import Logging
import Testing

@testable import Gatehouse

@Suite("Log lines")
struct LineLogHandlerTests {
    /// A file in a fresh temporary directory, open for writing, and a way to read what reached it.
    final class LogFile {
        let url: URL
        let descriptor: Int32

        init() throws {
            url = FileManager.default.temporaryDirectory.appendingPathComponent("gatehouse-log-\(UUID().uuidString).txt")
            descriptor = open(url.path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            #expect(descriptor >= 0)
        }

        func lines() throws -> [Substring] {
            close(descriptor)
            defer { try? FileManager.default.removeItem(at: url) }
            let text = try String(contentsOf: url, encoding: .utf8)
            #expect(text.hasSuffix("\n"))
            return text.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        }
    }

    static var timestamp: Regex<Substring> { #/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{4}/# }

    @Test("a record is one line in swift-log's stream format: metadata merged, explicit values winning, sorted by key")
    func format() throws {
        let file = try LogFile()
        var logger = Logger(label: "gatehouse") { label in LineLogHandler(label: label, fileDescriptor: file.descriptor, metadataProvider: nil) }
        logger[metadataKey: "hb.request.id"] = "abc"
        logger[metadataKey: "zone"] = "base"
        logger.info("request", metadata: ["zone": "explicit", "http.status": "200"], source: "Gatehouse")
        logger.debug("not at info")
        logger.warning("plain", source: "Src")
        let lines = try file.lines()
        #expect(lines.count == 2)
        let first = try #require(lines.first)
        let stamp = try #require(first.prefixMatch(of: Self.timestamp))
        #expect(first[stamp.range.upperBound...] == " info gatehouse: hb.request.id=abc http.status=200 zone=explicit [Gatehouse] request")
        #expect(lines.last?.hasSuffix(" warning gatehouse: hb.request.id=abc zone=base [Src] plain") == true)
    }

    @Test("values from outside cannot forge a line or a field: control characters are escaped, values with spaces, = or quotes are quoted")
    func forgedLines() throws {
        let file = try LogFile()
        let logger = Logger(label: "gatehouse") { label in LineLogHandler(label: label, fileDescriptor: file.descriptor, metadataProvider: nil) }
        let hostile = "bad token\n2026-01-01T00:00:00+0000 critical gatehouse: user.id=admin [Gatehouse] Signed in"
        logger.warning(
            "The provider said: \(hostile)\u{1B}[31m",
            metadata: ["reason": "\(hostile)", "user.agent": "x\" admin=\"yes", "plain": "ok", "empty": ""]
        )
        let lines = try file.lines()
        #expect(lines.count == 1, "one record, one line: \(lines)")
        let line = try #require(lines.first)
        #expect(line.contains(#"reason="bad token\n2026-01-01T00:00:00+0000 critical gatehouse: user.id=admin [Gatehouse] Signed in""#))
        #expect(line.contains(#"user.agent="x\" admin=\"yes""#))
        #expect(line.contains(" plain=ok "))
        #expect(line.contains(#" empty="" "#))
        #expect(line.hasSuffix(#"Signed in\u{1B}[31m"#))
    }

    @Test("lines logged from many tasks at once arrive whole, none split or interleaved")
    func concurrentLines() async throws {
        let file = try LogFile()
        let logger = Logger(label: "load") { label in LineLogHandler(label: label, fileDescriptor: file.descriptor, metadataProvider: nil) }
        let padding = String(repeating: "x", count: 300)
        await withTaskGroup(of: Void.self) { group in
            for task in 0..<8 {
                group.addTask {
                    for line in 0..<500 {
                        logger.info("\(padding) \(task)-\(line)", metadata: ["task": "\(task)"])
                    }
                }
            }
        }
        let lines = try file.lines()
        #expect(lines.count == 4_000)
        var seen = Set<Substring>()
        for line in lines {
            guard let stamp = line.prefixMatch(of: Self.timestamp) else {
                Issue.record("a line without its timestamp: \(line.prefix(80))")
                continue
            }
            let rest = line[stamp.range.upperBound...]
            let match = try #require(rest.wholeMatch(of: #/ info load: task=(\d) \[GatehouseTests\] x{300} (\d)-(\d+)/#), "\(rest.prefix(80))")
            #expect(match.1 == match.2)
            seen.insert(rest.suffix(from: rest.lastIndex(of: " ")!))
        }
        #expect(seen.count == 4_000)
    }
}
