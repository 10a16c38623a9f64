import Foundation
import Testing

/// The child-process helper itself: a hung child must fail its test with a reason, not run out the clock.
@Suite("Child processes under test")
struct GatehouseProcessTests {
    @Test("a child that outlives its wait is reported with what it printed, then ended; one that exits gives its status")
    func hungChildIsReported() async throws {
        let shell = URL(fileURLWithPath: "/bin/sh")
        let hung = try GatehouseProcess(["-c", "echo still here; exec sleep 60"], executable: shell)
        _ = try await hung.waitFor("still here")
        await withKnownIssue {
            #expect(await hung.exitStatus(within: .milliseconds(200), backtraceTime: .milliseconds(200)) == -1)
        } matching: { issue in
            issue.description.contains("was still running after") && issue.description.contains("still here")
        }
        #expect(kill(hung.pid, 0) != 0, "the hung child was ended")

        let quick = try await GatehouseProcess(["-c", "echo done; exit 3"], executable: shell).finished()
        #expect(quick.status == 3)
        #expect(quick.output == "done\n")
    }
}
