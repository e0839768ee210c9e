import CFFTW3f

/// Facts about the linked FFTW, for `sono-inspect versions` and benchmark reports.
/// The log-mel front end (issue 3) lives in this module, the only one that imports FFTW.
public enum FFTWInfo {
    /// e.g. "fftw-3.3.10-sse2-avx".
    public static var version: String { String(cString: shim_fftwf_version()) }
}
