import ArgumentParser
import Foundation
import SonoCore

/// Exit statuses shared by every stage: 0 all done, 1 usage error, 2 some inputs failed
/// (the rest were processed and nothing already done was lost).
public enum StageExit {
    public static let someInputsFailed = ExitCode(2)
    public static let usage = ExitCode(1)
}

extension ParsableCommand {
    /// Parses the command line and runs, mapping argument-parser's usage errors (64) to 1 and
    /// printing any other error as "error: …" with exit status 1.
    public static func mainWithStageExitCodes() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let code as ExitCode {
            Foundation.exit(code.rawValue)
        } catch {
            let status = exitCode(for: error)
            if status == .success {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            if error is PathError || error is ExternalTool.Failure {
                printError("error: \(error)")
            } else {
                printError(fullMessage(for: error))
            }
            Foundation.exit(status == .validationFailure ? StageExit.usage.rawValue : 1)
        }
    }
}
