import Foundation
import PostgresNIO

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The built `ocpp-worker` binary run as a child process, exactly as an operator runs
/// it, so that a test can kill it the hard way (`kill -9`): no graceful shutdown, no
/// chance to roll back or finish anything in-process.
///
/// Not `Sendable`: one test owns it and stops it (`defer { worker.stop() }`) on every
/// path out, so that no worker outlives its test or its database.
final class WorkerProcess {
    private let process = Process()
    let logFile: URL

    /// Starts `ocpp-worker run` against `databaseURL`, without migrations (the test
    /// has migrated) and with its HTTP endpoint on a free port.
    init(databaseURL: String, batchSize: Int, name: String) throws {
        guard let binary = Self.binary else {
            throw WorkerProcessError(
                message: "ocpp-worker is not built next to the test bundle: run `swift build --build-tests`")
        }
        logFile = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        let log = try FileHandle(forWritingTo: logFile)
        process.executableURL = binary
        process.arguments = ["run"]
        process.environment = [
            "DATABASE_URL": databaseURL,
            "OCPP_MIGRATE": "false",
            "OCPP_WORKER_HOST": "127.0.0.1",
            "OCPP_WORKER_PORT": "0",
            "OCPP_WORKER_BATCH_SIZE": "\(batchSize)",
            "OCPP_WORKER_ID": name,
            "LOG_LEVEL": "warning",
        ]
        process.standardOutput = log
        process.standardError = log
        try process.run()
        // The child has its own copy of the descriptor.
        try? log.close()
    }

    deinit {
        stop()
        // Failures quote the log's tail in their message; the file itself is not kept.
        try? FileManager.default.removeItem(at: logFile)
    }

    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }

    /// How the process ended: the signal that killed it, if one did.
    var terminatingSignal: Int32? {
        !process.isRunning && process.terminationReason == .uncaughtSignal ? process.terminationStatus : nil
    }

    /// `kill -9`, then waits until the process is gone.
    func kill9() async {
        _ = kill(pid, SIGKILL)
        while process.isRunning { try? await Task.sleep(for: .milliseconds(10)) }
    }

    /// Kills the process if it still runs and waits for it; for `defer`, which cannot await.
    func stop() {
        guard process.isRunning else { return }
        _ = kill(pid, SIGKILL)
        process.waitUntilExit()
    }

    /// The end of the worker's log, for failure messages.
    func logTail(maxBytes: Int = 2000) -> String {
        guard let data = FileManager.default.contents(atPath: logFile.path) else { return "(no log)" }
        return String(decoding: data.suffix(maxBytes), as: UTF8.self)
    }

    /// `DATABASE_URL` of the test database of `configuration`: the server of the
    /// tests' `DATABASE_URL`, with the database name replaced.
    static func databaseURL(for configuration: PostgresClient.Configuration) throws -> String {
        guard let serverURL = ProcessInfo.processInfo.environment["DATABASE_URL"],
            var components = URLComponents(string: serverURL), let database = configuration.database
        else {
            throw WorkerProcessError(message: "DATABASE_URL is not set or not a URL")
        }
        components.path = "/" + database
        guard let url = components.string else { throw WorkerProcessError(message: "cannot build DATABASE_URL") }
        return url
    }

    /// `ocpp-worker` in the build folder of the running test bundle
    /// (`.build/debug/<Package>PackageTests.xctest` on Linux; inside the bundle's
    /// `Contents/MacOS` on macOS), else in `.build/debug` of this checkout.
    static let binary: URL? = {
        var candidates: [URL] = []
        var folder = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent()
        for _ in 0..<4 {
            candidates.append(folder.appendingPathComponent("ocpp-worker"))
            folder.deleteLastPathComponent()
        }
        // This file is Tests/WorkerTests/Support/WorkerProcess.swift.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        candidates.append(root.appendingPathComponent(".build/debug/ocpp-worker"))
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }()
}

struct WorkerProcessError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
