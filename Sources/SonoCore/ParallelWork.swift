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

    /// Like `map`, but `commit` then runs for each item whose work succeeded in ITEM ORDER, one
    /// at a time, as soon as every earlier item is done: the expensive work runs in parallel,
    /// while what must happen in a fixed order (catalog rows whose ids later steps depend on)
    /// does not depend on which thread finished first.
    public static func map<Item: Sendable, Work: Sendable, Output: Sendable>(
        _ items: [Item], jobs: Int, _ body: @escaping @Sendable (Int, Item) throws -> Work,
        commitInOrder commit: @escaping @Sendable (Int, Item, Work) throws -> Output
    ) -> [Result<Output, Error>] {
        let committer = OrderedCommitter<Item, Work, Output>(items: items, commit: commit)
        let queue = OperationQueue()
        queue.maxConcurrentOperationCount = max(1, jobs)
        for (i, item) in items.enumerated() {
            queue.addOperation {
                committer.finished(i, Result { try body(i, item) })
            }
        }
        queue.waitUntilAllOperationsAreFinished()
        return committer.results.all
    }

    private final class OrderedCommitter<Item: Sendable, Work: Sendable, Output: Sendable>: @unchecked Sendable {
        private let lock = NSLock()
        private let items: [Item]
        private let commit: @Sendable (Int, Item, Work) throws -> Output
        private var pending: [Int: Result<Work, Error>] = [:]
        private var next = 0
        let results: ResultSlots<Output>

        init(items: [Item], commit: @escaping @Sendable (Int, Item, Work) throws -> Output) {
            self.items = items
            self.commit = commit
            results = ResultSlots(count: items.count)
        }

        func finished(_ i: Int, _ work: Result<Work, Error>) {
            lock.lock()
            defer { lock.unlock() }
            pending[i] = work
            while let ready = pending.removeValue(forKey: next) {
                let index = next
                results.set(index, ready.flatMap { w in Result { try commit(index, items[index], w) } })
                next += 1
            }
        }
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
