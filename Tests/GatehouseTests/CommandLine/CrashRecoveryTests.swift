import Foundation
import Logging
import NIOHTTP1
import SQLiteNIO
import Synchronization
import Testing

@testable import Gatehouse

/// What a crash leaves behind: the real binary, killed without warning in the middle of its work.
@Suite("Crashes against the binary", .timeLimit(.minutes(2)))
struct CrashRecoveryTests {
    final class Counter: Sendable {
        let value = Atomic(0)
    }
    @Test("kill -9 during a login storm on SQLite: the database passes integrity_check, and sessions made before the storm still work")
    func killedDuringLoginStorm() async throws {
        let directory = try TestFixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = directory.appendingPathComponent("sessions.sqlite").path
        try await ManyInstancesTests().withMockProvider { idpURL, mock in
            let config = try ManyInstancesTests().writeConfig(
                idpURL: idpURL,
                sessions: #"{"store": "sqlite", "sqlitePath": "\#(database)", "secureCookies": false, "revalidateAfterSeconds": 0}"#,
                extra: #""logins": {"perClientPerMinute": 1000000},"#
            )
            let gateway = try GatehouseProcess(["serve", "--config", config.path, "--port", "0", "--log-level", "error"])
            let base = "http://127.0.0.1:\(try await gateway.waitFor(#"listening on http://127\.0\.0\.1:(\d+)"#))"
            let http = GatewayHTTPClient(connectionsPerHost: 64)
            var before: [String] = []
            for user in [TestFixtures.adaID, TestFixtures.graceID, TestFixtures.adaID] {
                before.append(try await http.logIn(at: base, directory: mock, as: user).session)
            }

            // 32 browsers log in over and over; the process is killed once 200 logins have landed.
            let completed = Counter()
            let storm = Task {
                await withTaskGroup(of: Void.self) { group in
                    for _ in 0..<32 {
                        group.addTask {
                            while !Task.isCancelled {
                                guard await http.quietLogIn(at: base, directory: mock).status == 303 else { return }
                                completed.value.add(1, ordering: .relaxed)
                            }
                        }
                    }
                }
            }
            await mock.waitForAPIRequests(await mock.apiRequestCount + 200)
            #expect(await gateway.stop(signal: SIGKILL) == SIGKILL)
            storm.cancel()
            await storm.value
            print("kill -9 during a login storm: \(completed.value.load(ordering: .relaxed)) logins completed before the kill")

            // The file SQLite left, checked by SQLite itself before anything opens it again.
            let connection = try await SQLiteConnection.open(storage: .file(path: database), logger: Logger(label: "test"))
            let check = try await connection.query("PRAGMA integrity_check")
            #expect(check.compactMap { $0.column("integrity_check")?.string } == ["ok"])
            try await connection.close()

            let restarted = try GatehouseProcess(["serve", "--config", config.path, "--port", "0", "--log-level", "error"])
            let again = "http://127.0.0.1:\(try await restarted.waitFor(#"listening on http://127\.0\.0\.1:(\d+)"#))"
            for session in before {
                #expect(try await http.send(.GET, "\(again)/dashboard", cookies: ["gatehouse_session": session]).status == 200)
            }
            #expect(try await http.logIn(at: again, directory: mock).session.isEmpty == false, "and new logins work")
            try await http.shutdown()
            #expect(await restarted.stop() == 0)
        }
    }
}
