import COpenBLAS
import CSonoKernels
import Foundation

/// Row-major GEMM, the engine's one threads setting and its one memory setting.
public enum Engine {
    /// Threads for GEMM (OpenBLAS) and for the engine's own parallel loops (Dispatch).
    public static func setThreads(_ n: Int) {
        openblas_set_num_threads(Int32(max(1, n)))
        threads = max(1, n)
    }

    /// Keeps freed memory in the process for the next allocation of the same size, for training:
    /// glibc gives every array over 32 MB its own mapping and unmaps it when freed, so each step's
    /// activations would come back as fresh pages that the kernel zeroes and faults in one by
    /// one (68 → 48 s for a full-model step at batch 8 on the 2-core machine; docs/training.md).
    /// Process-wide and not undone: freed memory stays with the process, which then holds about
    /// its largest step's peak (measured: the same peak RSS as without).
    public static func reuseFreedMemory() {
        sono_reuse_freed_memory()
    }

    nonisolated(unsafe) public private(set) static var threads = max(1, Int(openblas_get_num_threads()))

    /// C[m×n] = alpha · op(A)[m×k] · op(B)[k×n] + beta · C, row-major.
    /// The corresponding C function is `cblas_sgemm`.
    static func gemm(_ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int, alpha: Float = 1,
                     _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, beta: Float = 0, _ c: UnsafeMutablePointer<Float>) {
        guard m > 0, n > 0 else { return }
        if k == 0 {
            if beta == 0 { c.update(repeating: 0, count: m * n) }
            return
        }
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(transA ? m : k), b, Int32(transB ? k : n), beta, c, Int32(n))
    }

    /// The same with explicit leading dimensions (sub-blocks of larger row-major matrices).
    static func gemm(_ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int, alpha: Float = 1,
                     _ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, ldb: Int, beta: Float = 0,
                     _ c: UnsafeMutablePointer<Float>, ldc: Int) {
        guard m > 0, n > 0, k > 0 else { return }
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// Runs `body(i)` for i in 0..<n on the engine's threads.
    static func parallelFor(_ n: Int, _ body: (Int) -> Void) {
        if threads <= 1 || n <= 1 {
            for i in 0..<n { body(i) }
        } else {
            withoutActuallyEscaping(body) { escapable in
                let box = UncheckedBox(escapable)
                DispatchQueue.concurrentPerform(iterations: n) { box.value($0) }
            }
        }
    }
}

/// Hands a closure to Dispatch's worker threads; the callers only write disjoint memory.
final class UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
