import XCTest
@testable import SonoTensor

/// The vectorised row passes of vol2col/col2vol (`StridedRow`) against plain loops, and a
/// stride-2 convolution wide enough to use them against direct sums. The PyTorch goldens are
/// too narrow (rows under 16 values) to reach the vector path.
final class StridedConvolutionTests: XCTestCase {
    func testRowPassesEqualPlainLoops() {
        for stride in 1...3 { for count in 0...37 {
            let available = (count - 1) * stride + 1 + (count % 3)  // the row may end just after the last read
            guard count > 0 else { continue }
            let src = (0..<available).map { Float($0) * 0.25 - 3 }
            var gathered = [Float](repeating: .nan, count: count)
            src.withUnsafeBufferPointer { s in gathered.withUnsafeMutableBufferPointer { o in
                StridedRow.gather(s.baseAddress!, stride: stride, into: o.baseAddress!, count, available: available)
            } }
            XCTAssertEqual(gathered, (0..<count).map { src[$0 * stride] }, "gather, stride \(stride), count \(count)")

            let values = (0..<count).map { Float($0) * 0.5 + 1 }
            var dst = src, expected = src
            for j in 0..<count { expected[j * stride] += values[j] }
            values.withUnsafeBufferPointer { v in dst.withUnsafeMutableBufferPointer { d in
                StridedRow.scatterAdd(v.baseAddress!, into: d.baseAddress!, stride: stride, count, available: available)
            } }
            XCTAssertEqual(dst, expected, "scatter-add, stride \(stride), count \(count)")
        } }
    }

    func testWideStridedConvolutionEqualsDirectSums() {
        let (c, o, h, w, k) = (2, 3, 5, 41, 3)
        let x = Tensor(randomUniform: [1, c, h, w], low: -1, high: 1, seed: 3, requiresGrad: true)
        let weight = Tensor(randomUniform: [o, c, k, k], low: -1, high: 1, seed: 4)
        let y = x.conv2d(weight: weight, stride: (2, 2), padding: (1, 1))
        let (oh, ow) = (y.shape[2], y.shape[3])
        XCTAssertEqual([oh, ow], [3, 21])
        let g = Tensor(randomUniform: y.shape, low: -1, high: 1, seed: 5)
        (y * g).sum().backward()
        var out = [Double](repeating: 0, count: o * oh * ow), dx = [Double](repeating: 0, count: c * h * w)
        for oc in 0..<o { for yy in 0..<oh { for xx in 0..<ow { for ic in 0..<c { for a in 0..<k { for b in 0..<k {
            let iy = yy * 2 - 1 + a, ix = xx * 2 - 1 + b
            guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
            let wv = Double(weight.data[((oc * c + ic) * k + a) * k + b])
            out[(oc * oh + yy) * ow + xx] += wv * Double(x.data[(ic * h + iy) * w + ix])
            dx[(ic * h + iy) * w + ix] += wv * Double(g.data[(oc * oh + yy) * ow + xx])
        } } } } } }
        for (ours, direct) in zip(y.data, out) { XCTAssertEqual(Double(ours), direct, accuracy: 1e-5) }
        for (ours, direct) in zip(x.grad ?? [], dx) { XCTAssertEqual(Double(ours), direct, accuracy: 1e-5) }
        XCTAssertEqual(x.grad?.count, c * h * w)
    }
}
