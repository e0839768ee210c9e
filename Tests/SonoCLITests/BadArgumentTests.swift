import Foundation
import XCTest
import SonoTestSupport

/// Every executable over a table of bad arguments (negative, zero, huge, past the end,
/// malformed, missing files): each is a usage or input error with exit status 1 and a message
/// naming the option or file, never a crash (a signal) or a hang (issue 17).
final class BadArgumentTests: XCTestCase {
    /// (executable, arguments, a substring the error must contain). `$C` is a catalog with one
    /// extracted dataset "d" (2 s clips), `$D` a scratch folder.
    static let table: [(String, [String], String)] = [
        ("sono-sample", ["--out", "$D/s", "--seconds", "-1"], "seconds"),
        ("sono-sample", ["--out", "$D/s", "--seconds", "0"], "seconds"),
        ("sono-sample", ["--out", "$D/s", "--seconds", "1e12"], "seconds"),
        ("sono-sample", ["--out", "$D/s", "--seconds", "two"], "seconds"),
        ("sono-sample", ["--out", "$D/s", "--size", "0x0"], "size"),
        ("sono-sample", ["--out", "$D/s", "--size", "axb"], "size"),
        ("sono-sample", ["--out", "$D/s", "--size", "99999x99999"], "size"),
        ("sono-sample", ["--out", "$D/s", "--fps", "0"], "fps"),
        ("sono-sample", ["--out", "$D/s", "--fps", "-30"], "fps"),
        ("sono-sample", ["--out", "$D/s", "--sample-rate", "0"], "sample-rate"),
        ("sono-sample", ["--out", "$D/s", "--channels", "0"], "channels"),
        ("sono-sample", ["--out", "$D/s", "--labelled", "--hold-seconds", "0"], "hold-seconds"),
        ("sono-sample", ["--out", "$D/s", "--labelled", "--named-fraction", "2"], "named-fraction"),
        ("sono-sample", ["--out", "$D/s", "--labelled", "--views", "nope"], "nope"),
        ("sono-ingest", ["--catalog", "$D/i.sqlite", "--manifest", "$D/missing.csv"], "missing.csv"),
        ("sono-ingest", ["--catalog", "$D/i.sqlite", "--manifest", "$D/x.csv", "--jobs", "0"], "jobs"),
        ("sono-ingest", ["--catalog", "$D/i.sqlite", "--manifest", "$D/x.csv", "--jobs", "-2"], "jobs"),
        ("sono-ingest", ["labels", "--catalog", "$C", "--planes", "$D/missing.csv", "--name", "p"], "missing.csv"),
        ("sono-segment", ["--catalog", "$C", "--recipe", "$D/missing.toml"], "missing.toml"),
        ("sono-segment", ["--catalog", "$C", "--recipe", "$D/r.toml", "--jobs", "0"], "jobs"),
        ("sono-extract", ["--catalog", "$C", "--datasets", "nope", "--out", "$D/o"], "nope"),
        ("sono-extract", ["--catalog", "$C", "--datasets", "d", "--out", "$D/o", "--jobs", "0"], "jobs"),
        ("sono-extract", ["--catalog", "$C", "--datasets", "d", "--out", "$D/o", "--threads", "-1"], "threads"),
        ("sono-extract", ["--catalog", "$C", "--datasets", "d", "--out", "$D/o", "--shard-mib", "0"], "shard-mib"),
        ("sono-extract", ["--catalog", "$C", "--datasets", "d", "--out", "$D/o", "--part", "3/2"], "part"),
        ("sono-extract", ["--catalog", "$C", "--datasets", "d", "--out", "$D/o", "--part", "x"], "part"),
        ("sono-train", ["--catalog", "$C", "--datasets", "d", "--steps", "0", "--out", "$D/t"], "steps"),
        ("sono-train", ["--catalog", "$C", "--datasets", "d", "--steps", "-5", "--out", "$D/t"], "steps"),
        ("sono-train", ["--catalog", "$C", "--datasets", "d", "--batch-size", "0", "--out", "$D/t"], "batch"),
        ("sono-train", ["--catalog", "$C", "--datasets", "d", "--batch-size", "99999999", "--out", "$D/t"], "batch"),
        ("sono-train", ["--catalog", "$C", "--datasets", "d", "--lr", "-1", "--out", "$D/t"], "lr"),
        ("sono-train", ["--catalog", "$C", "--datasets", "d", "--lr", "fast", "--out", "$D/t"], "lr"),
        ("sono-train", ["--catalog", "$C", "--datasets", "d", "--threads", "0", "--out", "$D/t"], "threads"),
        ("sono-train", ["--catalog", "$C", "--datasets", "d", "--set", "data.nothing=1", "--out", "$D/t"], "data.nothing"),
        ("sono-train", ["--catalog", "$C", "--datasets", "d", "--set", "optimizer.lr", "--out", "$D/t"], "optimizer.lr"),
        ("sono-train", ["--catalog", "$C", "--datasets", "nope", "--out", "$D/t"], "nope"),
        ("sono-train", ["--catalog", "$C", "--datasets", "d", "--config", "$D/missing.toml", "--out", "$D/t"], "missing.toml"),
        ("sono-train", ["--catalog", "$C", "--datasets", "d", "--resume", "$D/missing.safetensors", "--out", "$D/t"], "missing.safetensors"),
        ("sono-embed", ["--catalog", "$C", "--dataset", "d", "--model", "tiny", "--encoder", "ear", "--out", "$D/e.npy"], "ear"),
        ("sono-embed", ["--catalog", "$C", "--dataset", "d", "--checkpoint", "$D/missing.safetensors", "--out", "$D/e.npy"], "missing.safetensors"),
        ("sono-embed", ["--catalog", "$C", "--dataset", "d", "--model", "tiny", "--batch-size", "0", "--out", "$D/e.npy"], "batch"),
        ("sono-embed", ["--catalog", "$C", "--dataset", "d", "--checkpoint", "$D/missing.safetensors", "--per-sample", "--out", "$D/e.npy"], "--per-sample"),
        ("sono-eval", ["probe", "--catalog", "$C", "--dataset", "d", "--features", "$D/missing.npy"], "missing.npy"),
        ("sono-eval", ["retrieval", "--catalog", "$C", "--dataset", "d", "--checkpoint", "$D/missing.safetensors"], "missing.safetensors"),
        ("sono-finetune", ["planes", "--catalog", "$C", "--dataset", "d", "--epochs", "0", "--out", "$D/f"], "epochs"),
        ("sono-finetune", ["planes", "--catalog", "$C", "--dataset", "d", "--batch-size", "-1", "--out", "$D/f"], "batch"),
        ("sono-finetune", ["planes", "--catalog", "$C", "--dataset", "d", "--lr", "0", "--out", "$D/f"], "lr"),
        ("sono-finetune", ["planes", "--catalog", "$C", "--dataset", "d", "--init", "weird", "--out", "$D/f"], "init"),
        ("sono-finetune", ["saliency", "--catalog", "$C", "--dataset", "d", "--max-shift", "-3", "--out", "$D/f"], "max-shift"),
        ("sono-eval", ["tables"], "--run"),
        ("sono-eval", ["tables", "--run", "nameonly"], "NAME=DIR"),
        ("sono-eval", ["tables", "--run", "a=$D/none"], "report.json"),
        ("sono-finetune", ["planes", "--catalog", "$C", "--dataset", "d", "--class-weights", "heavy", "--out", "$D/f"], "class-weights"),
        ("sono-finetune", ["planes", "--catalog", "$C", "--dataset", "d", "--encoder", "audio", "--out", "$D/f"], "encoder"),
        ("sono-extract", ["--catalog", "$C", "--datasets", "d", "--decode", "some"], "decode"),
        ("sono-finetune", ["saliency", "--catalog", "$C", "--dataset", "d", "--epochs", "0", "--out", "$D/f"], "epochs"),
        ("sono-finetune", ["saliency", "--catalog", "$C", "--dataset", "missing", "--out", "$D/f"], "missing"),
        ("sono-inspect", ["order", "--catalog", "$C", "--dataset", "d", "--batch-size", "2", "--from-step", "99"], "from-step"),
        ("sono-inspect", ["order", "--catalog", "$C", "--dataset", "d", "--from-step", "-1"], "from-step"),
        ("sono-inspect", ["order", "--catalog", "$C", "--dataset", "d", "--rank", "2", "--world-size", "2"], "rank"),
        ("sono-inspect", ["order", "--catalog", "$C", "--dataset", "d", "--world-size", "0"], "world size"),
        ("sono-inspect", ["order", "--catalog", "$C", "--dataset", "d", "--epoch", "-1"], "epoch"),
        ("sono-inspect", ["order", "--catalog", "$C", "--dataset", "d", "--max-per-scan", "0"], "max-per-scan"),
        ("sono-inspect", ["order", "--catalog", "$C", "--dataset", "d", "--scan-group", "0"], "scan-group"),
        ("sono-inspect", ["compare-decode", "--catalog", "$C", "--datasets", "d", "--scans", "nope"], "nope"),
        ("sono-inspect", ["compare-decode", "--catalog", "$C", "--datasets", "d", "--threads", "0"], "threads"),
        ("sono-report", ["--out", "$D/r"], "--catalog"),
        ("sono-report", ["--catalog", "$D/missing.sqlite", "--out", "$D/r"], "missing.sqlite"),
        ("sono-report", ["--log", "$D/missing.jsonl", "--out", "$D/r"], "missing.jsonl"),
        ("sono-report", ["--log", "$D/x.csv", "--out", "$D/r"], "x.csv"),
        ("sono-report", ["--eval", "$D/x.csv", "--out", "$D/r"], "x.csv"),
        ("sono-report", ["--catalog", "$C", "--datasets", "nope", "--out", "$D/r"], "nope"),
        ("sono-inspect", ["show", "--catalog", "$C", "-5"], "clip"),
        ("sono-inspect", ["show", "--catalog", "$C", "999999"], "999999"),
        ("sono-inspect", ["verify", "--catalog", "$C", "--dataset", "nope"], "nope"),
        ("sono-inspect", ["decode", "--catalog", "$C", "--size", "0"], "size"),
        ("sono-inspect", ["decode", "--catalog", "$C", "--threads", "0"], "threads"),
        ("sono-inspect", ["logmel", "$D/missing.wav", "--out", "$D/m.npy"], "missing.wav"),
        ("sono-inspect", ["logmel", "$D/s/a.mp4", "--out", "$D/m.npy", "--hop", "0"], "hop"),
        ("sono-inspect", ["logmel", "$D/s/a.mp4", "--out", "$D/m.npy", "--n-fft", "-4"], "n-fft"),
        ("sono-inspect", ["logmel", "$D/s/a.mp4", "--out", "$D/m.npy", "--start", "5", "--end", "1"], "end"),
        ("sono-inspect", ["summary", "--catalog", "$D/missing-dir/c.sqlite"], "missing-dir"),
        ("sono-bench", ["shards", "--catalog", "$D/b.sqlite", "--root", "$D/b", "--records", "-1"], "records"),
        ("sono-bench", ["shards", "--catalog", "$D/b.sqlite", "--root", "$D/b", "--scans", "0"], "scans"),
        ("sono-bench", ["shards", "--catalog", "$D/b.sqlite", "--root", "$D/b", "--layout", "huge"], "layout"),
    ]

    func testEveryBadArgumentIsAUsageErrorNotACrash() throws {
        let dir = TemporaryDirectory("bad-arguments")
        let catalog = dir.file("c.sqlite")
        // One 2 s recording, one extracted dataset "d".
        try run("sono-sample", ["--out", dir.file("s"), "--name", "a", "--seconds", "2", "--size", "160x128",
                                "--manifest", dir.file("x.csv")])
        try run("sono-ingest", ["--catalog", catalog, "--manifest", dir.file("x.csv"), "--quiet"])
        try "name = \"d\"\n[clips]\nlength_s = 2.0\nstride_s = 2.0\n[selection]\nmode = \"none\"\n"
            .write(toFile: dir.file("r.toml"), atomically: true, encoding: .utf8)
        try run("sono-segment", ["--catalog", catalog, "--recipe", dir.file("r.toml"), "--quiet"])
        try run("sono-extract", ["--catalog", catalog, "--datasets", "d", "--out", dir.file("shards"), "--quiet"])

        var failures: [String] = []
        for (name, rawArgs, needle) in Self.table {
            let args = rawArgs.map { $0.replacingOccurrences(of: "$C", with: catalog).replacingOccurrences(of: "$D", with: dir.path) }
            let result = try BuiltProducts.run(name, args, timeout: 120)
            let line = "\(name) \(rawArgs.joined(separator: " "))"
            let message = result.stderr + result.stdout
            if result.status != 1 {
                failures.append("\(line): exit \(result.status): \(message.prefix(300))")
            } else if !message.lowercased().contains(needle.lowercased()) {
                failures.append("\(line): message does not name \"\(needle)\": \(message.prefix(300))")
            }
        }
        XCTAssertTrue(failures.isEmpty, "\(failures.count) of \(Self.table.count) bad arguments mishandled:\n" + failures.joined(separator: "\n"))
    }

    private func run(_ name: String, _ args: [String]) throws {
        let result = try BuiltProducts.run(name, args, timeout: 300)
        XCTAssertEqual(result.status, 0, "\(name): \(result.stderr)")
    }
}
