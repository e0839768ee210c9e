import COpenBLAS

/// Facts about the linked OpenBLAS: the kernel family it chose (which `OPENBLAS_CORETYPE`
/// may force) and its thread count. The tensor engine (issue 7) lives in this module, the only
/// one that imports OpenBLAS.
public enum BLASInfo {
    /// e.g. "Haswell" or "Cooperlake".
    public static var coreName: String {
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name)
    }

    public static var config: String {
        guard let c = openblas_get_config() else { return "unknown" }
        return String(cString: c)
    }

    public static var threads: Int { Int(openblas_get_num_threads()) }
}
