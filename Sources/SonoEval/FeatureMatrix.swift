/// Frozen features, one row per sample, row-major, in Double: the probe must reproduce
/// scikit-learn's float64 fit to 1e-4, and a float32 gradient cannot converge that far.
public struct FeatureMatrix: Equatable, Sendable {
    public let rows: Int
    public let columns: Int
    public let values: [Double]

    public init(rows: Int, columns: Int, values: [Double]) throws(EvalError) {
        guard rows >= 0, columns >= 1 else {
            throw .invalidOption(name: "features", reason: "shape \(rows) × \(columns) is not a matrix")
        }
        guard values.count == rows * columns else {
            throw .sizeMismatch(name: "features (\(rows) × \(columns))", expected: rows * columns, actual: values.count)
        }
        guard values.allSatisfy(\.isFinite) else {
            throw .invalidOption(name: "features", reason: "contain NaN or infinite values")
        }
        self.rows = rows
        self.columns = columns
        self.values = values
    }

    /// From an encoder's float32 output.
    public init(rows: Int, columns: Int, floats: [Float]) throws(EvalError) {
        try self.init(rows: rows, columns: columns, values: floats.map(Double.init))
    }

    /// From one array per sample; all rows must have the same length.
    public init(rowArrays: [[Double]]) throws(EvalError) {
        guard let width = rowArrays.first?.count else {
            throw .invalidOption(name: "features", reason: "no rows")
        }
        for (i, r) in rowArrays.enumerated() where r.count != width {
            throw .sizeMismatch(name: "features row \(i)", expected: width, actual: r.count)
        }
        try self.init(rows: rowArrays.count, columns: width, values: rowArrays.flatMap { $0 })
    }

    init(unchecked rows: Int, _ columns: Int, _ values: [Double]) {
        self.rows = rows
        self.columns = columns
        self.values = values
    }

    public subscript(row: Int, column: Int) -> Double { values[row * columns + column] }

    public func row(_ i: Int) -> ArraySlice<Double> { values[(i * columns)..<((i + 1) * columns)] }

    /// The given rows, in the given order (a cross-validation part).
    public func selecting(rows indices: [Int]) -> FeatureMatrix {
        var out: [Double] = []
        out.reserveCapacity(indices.count * columns)
        for i in indices { out.append(contentsOf: row(i)) }
        return FeatureMatrix(unchecked: indices.count, columns, out)
    }
}
