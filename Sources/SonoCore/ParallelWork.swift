import Foundation

/// Runs independent per-item work (one scan each) on up to `jobs` threads and returns the
/// results in item order. Each body's errors are its own result; the others go on.
public enum ParallelWork {
    public static func map<Item: Sendable, Output: Sendable>(
        _ items: [Item], jobs: Int, _ body: @escaping @Sendable (Int, Item) throws -> Output
    ) -> [Result<Output, Error>] {
        let results = ResultSlots<Output>(count: items.count)
        let queue = OperationQueue()
        queue.maxConcurrentOperationCount = max(1, jobs)
        for (i, item) in items.enumerated() {
            queue.addOperation {
                results.set(i, Result { try body(i, item) })
            }
        }
        queue.waitUntilAllOperationsAreFinished()
        return results.all
    }

    private final class ResultSlots<Output>: @unchecked Sendable {
        private let lock = NSLock()
        private var slots: [Result<Output, Error>?]
        init(count: Int) { slots = Array(repeating: nil, count: count) }
        func set(_ i: Int, _ r: Result<Output, Error>) { lock.lock(); slots[i] = r; lock.unlock() }
        var all: [Result<Output, Error>] {
            lock.lock(); defer { lock.unlock() }
            return slots.map { $0 ?? .failure(CancellationError()) }
        }
    }
}
