import CFFTW3f
import CSonoKernels
import Foundation

/// One FFTW real-to-complex plan of a fixed size, in single or double precision, turning a
/// windowed frame into its power spectrum |X_k|², k = 0…n/2.
///
/// Plans are made and destroyed under one lock (FFTW's planner is not thread-safe). Execution
/// uses FFTW's new-array interface on a caller's `Workspace`, whose buffers come from
/// `fftw(f)_alloc_*` and so have the alignment the plan was made with.
final class PowerSpectrumPlan: @unchecked Sendable {
    let size: Int
    let precision: LogMelConfig.FFTPrecision
    private let singlePlan: fftwf_plan?
    private let doublePlan: fftw_plan?
    static let plannerLock = NSLock()

    /// Per-thread FFT buffers.
    final class Workspace {
        let realF: UnsafeMutablePointer<Float>?
        let complexF: UnsafeMutablePointer<fftwf_complex>?
        let realD: UnsafeMutablePointer<Double>?
        let complexD: UnsafeMutablePointer<fftw_complex>?

        init(size n: Int, precision: LogMelConfig.FFTPrecision) {
            if precision == .single {
                realF = fftwf_alloc_real(n); complexF = fftwf_alloc_complex(n / 2 + 1)
                realD = nil; complexD = nil
            } else {
                realD = fftw_alloc_real(n); complexD = fftw_alloc_complex(n / 2 + 1)
                realF = nil; complexF = nil
            }
        }

        deinit {
            fftwf_free(realF); fftwf_free(complexF)
            fftw_free(realD); fftw_free(complexD)
        }
    }

    init(size n: Int, precision: LogMelConfig.FFTPrecision) throws {
        size = n
        self.precision = precision
        Self.plannerLock.lock()
        defer { Self.plannerLock.unlock() }
        let scratch = Workspace(size: n, precision: precision)
        if precision == .single {
            singlePlan = fftwf_plan_dft_r2c_1d(Int32(n), scratch.realF, scratch.complexF, UInt32(FFTW_ESTIMATE))
            doublePlan = nil
        } else {
            doublePlan = fftw_plan_dft_r2c_1d(Int32(n), scratch.realD, scratch.complexD, UInt32(FFTW_ESTIMATE))
            singlePlan = nil
        }
        guard singlePlan != nil || doublePlan != nil else {
            throw SpectralError(path: "LogMelConfig", reason: "FFTW could not plan a real FFT of size \(n)")
        }
    }

    deinit {
        Self.plannerLock.lock()
        if let singlePlan { fftwf_destroy_plan(singlePlan) }
        if let doublePlan { fftw_destroy_plan(doublePlan) }
        Self.plannerLock.unlock()
    }

    func makeWorkspace() -> Workspace { Workspace(size: size, precision: precision) }

    /// power[k] = |FFT(frame · window)_k|² for k = 0…n/2.
    func power(_ frame: UnsafePointer<Float>, window: UnsafePointer<Float>, workspace w: Workspace,
               into power: UnsafeMutablePointer<Float>) {
        let n = size, bins = n / 2 + 1
        if let plan = singlePlan, let input = w.realF, let output = w.complexF {
            for i in 0..<n { input[i] = frame[i] * window[i] }
            fftwf_execute_dft_r2c(plan, input, output)
            let c = UnsafeMutableRawPointer(output).assumingMemoryBound(to: Float.self)
            for k in 0..<bins { power[k] = c[2 * k] * c[2 * k] + c[2 * k + 1] * c[2 * k + 1] }
        } else if let plan = doublePlan, let input = w.realD, let output = w.complexD {
            sono_window_to_double(frame, window, input, n)
            fftw_execute_dft_r2c(plan, input, output)
            sono_power_from_complex(UnsafeRawPointer(output).assumingMemoryBound(to: Double.self), power, bins)
        }
    }
}

/// One FFTW DCT-I (REDFT00) plan in single precision: the autocorrelation of a real, even
/// power spectrum given its bins 0…n/2 (up to a constant factor).
final class CosinePlan: @unchecked Sendable {
    let size: Int
    private let plan: fftwf_plan

    final class Workspace {
        let input: UnsafeMutablePointer<Float>
        let output: UnsafeMutablePointer<Float>
        init(size: Int) {
            input = fftwf_alloc_real(size)
            output = fftwf_alloc_real(size)
        }
        deinit { fftwf_free(input); fftwf_free(output) }
    }

    init(size n: Int) throws {
        size = n
        PowerSpectrumPlan.plannerLock.lock()
        defer { PowerSpectrumPlan.plannerLock.unlock() }
        let scratch = Workspace(size: n)
        guard n >= 2, let p = fftwf_plan_r2r_1d(Int32(n), scratch.input, scratch.output, FFTW_REDFT00, UInt32(FFTW_ESTIMATE)) else {
            throw SpectralError(path: "SpeechActivityConfig", reason: "FFTW could not plan a DCT-I of size \(n)")
        }
        plan = p
    }

    deinit {
        PowerSpectrumPlan.plannerLock.lock()
        fftwf_destroy_plan(plan)
        PowerSpectrumPlan.plannerLock.unlock()
    }

    func makeWorkspace() -> Workspace { Workspace(size: size) }

    /// output[j] = x0 + (−1)^j x_{n−1} + 2 Σ x_k cos(π j k / (n − 1)).
    func transform(_ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, workspace w: Workspace) {
        w.input.update(from: input, count: size)
        fftwf_execute_r2r(plan, w.input, w.output)
        output.update(from: w.output, count: size)
    }
}
