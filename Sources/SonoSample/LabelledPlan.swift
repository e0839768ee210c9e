import Foundation
import SonoCore

/// The fan-shaped sector of the sample recordings, in displayed pixels of the full frame: apex
/// at the top centre just below the machine's text band, half-angle 38°.
public struct SectorGeometry: Hashable, Sendable {
    public var width: Int, height: Int
    /// Height of the text band at the top of the screen capture.
    public var bandHeight: Int
    public var apexX: Double, apexY: Double
    public var radius: Double
    public var halfAngle: Double

    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
        bandHeight = max(12, height / 14)
        apexX = Double(width) / 2
        apexY = Double(bandHeight + 4)
        radius = Double(height) - apexY - 4
        halfAngle = 38.0 * Double.pi / 180
    }

    /// Whether the pixel centre (x, y) lies in the sector.
    public func contains(x: Double, y: Double) -> Bool {
        let dx = x - apexX, dy = y - apexY
        guard dy > 0 else { return false }
        let r = (dx * dx + dy * dy).squareRoot()
        return r < radius && r > 0.06 * radius && abs(atan2(dx, dy)) < halfAngle
    }

    /// The point at distance r from the apex and angle φ from the vertical.
    func point(r: Double, angle: Double) -> (x: Double, y: Double) {
        (apexX + r * sin(angle), apexY + r * cos(angle))
    }
}

/// Where a hold's structure is at one moment: centre (displayed pixels), half-size (pixels per
/// unit of the structure's own coordinates), rotation (radians, clockwise on screen).
public struct StructurePose: Hashable, Sendable {
    public var x: Double, y: Double
    public var size: Double
    public var angle: Double

    /// The displayed pixel of the structure point (u, v), u, v ∈ [-1, 1].
    public func pixel(u: Double, v: Double) -> (x: Double, y: Double) {
        let c = cos(angle), s = sin(angle)
        return (x + size * (c * u - s * v), y + size * (s * u + c * v))
    }
}

/// One labelled span of a labelled sample: frames [startFrame, endFrame), written as
/// [startSeconds, endSeconds) (boundaries half-way between frames, in whole milliseconds).
public struct PlaneInterval: Hashable, Sendable, Codable {
    public var label: SampleView
    public var startFrame: Int, endFrame: Int
    public var startSeconds: Double, endSeconds: Double
    public var isHold: Bool { label != .background }
}

/// One gaze sample, in displayed pixels of the full frame.
public struct GazeSample: Hashable, Sendable, Codable {
    public var time: Double
    public var x: Double, y: Double
}

/// The pure, seeded layout of a labelled sample: intervals, each hold's look and motion, the
/// probe's motion over the tissue, and the gaze. Everything but the media.
public struct LabelledPlan: Sendable {
    /// How a hold's structure looks and moves (per hold, seeded).
    struct HoldLook: Sendable {
        var x0: Double, y0: Double, size0: Double, angle0: Double
        var amplitude: Double
        var periods: [Double]   // x, y, angle, size
        var phases: [Double]
        /// Whole-image gain and structure contrast.
        var contrast: Double
    }

    public let spec: SampleSpec
    public let options: LabelledOptions
    public let sector: SectorGeometry
    public let intervals: [PlaneInterval]
    public private(set) var gaze: [GazeSample] = []
    /// Per interval: the structure's look (holds only) and the image gain.
    let looks: [HoldLook?]
    let gains: [Double]
    /// Tissue offset (scene pixels) at each interval's start, and at the end.
    let offsetKeys: [(x: Double, y: Double)]
    /// Scene margins: the tissue scene is (width + 2·mx) × (height + 2·my).
    let marginX: Int, marginY: Int

    public var duration: Double { Double(spec.frameCount) / Double(spec.framesPerSecond) }
    public var gazeRate: Double { options.gazeRate ?? Double(spec.framesPerSecond) }

    public init(spec: SampleSpec, options: LabelledOptions) throws {
        try options.validate(source: "labelled options")
        guard spec.frameCount >= 2, spec.framesPerSecond > 0, spec.width >= 64, spec.height >= 64 else {
            throw InputError(path: "labelled options", reason: "a labelled sample needs at least 2 frames of 64×64")
        }
        self.spec = spec
        self.options = options
        let sector = SectorGeometry(width: spec.width, height: spec.height)
        self.sector = sector
        marginX = max(8, spec.width / 4)
        marginY = max(8, spec.height / 4)
        let fps = Double(spec.framesPerSecond)
        let n = spec.frameCount

        // Intervals: background, hold, background, …; views dealt from seeded shuffled decks.
        var rng = SeededGenerator(seed: spec.seed, stream: 0x1AB_E11)
        var deck: [SampleView] = []
        var last: SampleView?
        func nextView() -> SampleView {
            if deck.isEmpty {
                deck = options.views
                for i in stride(from: deck.count - 1, to: 0, by: -1) { deck.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
                if deck.count > 1, deck.last == last { deck.swapAt(deck.count - 1, 0) }
            }
            let view = deck.removeLast()
            last = view
            return view
        }
        func draw(_ range: ClosedRange<Double>) -> Int {
            max(1, Int(((range.lowerBound + (range.upperBound - range.lowerBound) * rng.nextUnit()) * fps).rounded()))
        }
        let minHoldFrames = max(1, Int(options.holdSeconds.lowerBound * fps / 2))
        let minTailFrames = max(1, Int(options.backgroundSeconds.lowerBound * fps / 2))
        var spans: [(SampleView, Int, Int)] = []
        var k = 0, hold = false
        while k < n {
            var label = SampleView.background
            var length = draw(options.backgroundSeconds)
            if hold {
                length = draw(options.holdSeconds)
                label = n - k >= minHoldFrames ? nextView() : .background
            }
            var end = min(n, k + length)
            if n - end < minTailFrames { end = n }
            if label == .background, let previous = spans.last, previous.0 == .background {
                spans[spans.count - 1].2 = end  // a too-short final hold joins the background
            } else {
                spans.append((label, k, end))
            }
            k = end
            hold.toggle()
        }
        func boundary(_ frame: Int) -> Double {
            if frame == 0 { return 0 }
            if frame == n { return (Double(n) / fps * 1000).rounded() / 1000 }
            return ((Double(frame) - 0.5) / fps * 1000).rounded() / 1000
        }
        intervals = spans.map { PlaneInterval(label: $0.0, startFrame: $0.1, endFrame: $0.2,
                                              startSeconds: boundary($0.1), endSeconds: boundary($0.2)) }

        // Looks and gains per interval, tissue offsets at the boundaries.
        var lookRNG = SeededGenerator(seed: spec.seed, stream: 0x100C)
        func uniform(_ a: Double, _ b: Double) -> Double { a + (b - a) * lookRNG.nextUnit() }
        let r = sector.radius
        var looks: [HoldLook?] = []
        var gains: [Double] = []
        var keys: [(x: Double, y: Double)] = [(uniform(0, 2 * Double(marginX)), uniform(0, 2 * Double(marginY)))]
        for interval in intervals {
            let previous = keys[keys.count - 1]
            if interval.isHold {
                let size0 = 0.19 * r * uniform(0.8, 1.25)
                let amplitude = 0.035 * r
                let reach = size0 * 1.1 + amplitude
                var centre = sector.point(r: 0.55 * r, angle: 0)
                for _ in 0..<200 {
                    let rr = uniform(0.3, 0.8) * r, phi = uniform(-0.65, 0.65) * sector.halfAngle
                    if rr - reach >= 0.1 * r, rr + reach <= 0.97 * r, rr * sin(sector.halfAngle - abs(phi)) >= reach {
                        centre = sector.point(r: rr, angle: phi)
                        break
                    }
                }
                looks.append(HoldLook(x0: centre.x, y0: centre.y, size0: size0, angle0: uniform(-0.6, 0.6),
                                      amplitude: amplitude, periods: (0..<4).map { _ in uniform(3, 7) },
                                      phases: (0..<4).map { _ in uniform(0, 2 * Double.pi) },
                                      contrast: uniform(0.8, 1.2)))
                gains.append(uniform(0.75, 1.25))
                let drift = 0.03 * Double(spec.width)
                keys.append((min(2 * Double(marginX), max(0, previous.x + uniform(-drift, drift))),
                             min(2 * Double(marginY), max(0, previous.y + uniform(-drift, drift)))))
            } else {
                looks.append(nil)
                gains.append(uniform(0.85, 1.1))
                keys.append((uniform(0, 2 * Double(marginX)), uniform(0, 2 * Double(marginY))))
            }
        }
        self.looks = looks
        self.gains = gains
        offsetKeys = keys
        gaze = makeGaze()
    }

    /// The interval holding frame `index`.
    public func intervalIndex(frame index: Int) -> Int {
        var lo = 0, hi = intervals.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if intervals[mid].startFrame <= index { lo = mid } else { hi = mid - 1 }
        }
        return lo
    }

    /// The interval holding time `t` (s) on the written boundaries (the last one includes its end).
    public func intervalIndex(time t: Double) -> Int {
        var lo = 0, hi = intervals.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if intervals[mid].startSeconds <= t { lo = mid } else { hi = mid - 1 }
        }
        return lo
    }

    /// The label of frame `index`.
    public func label(frame index: Int) -> SampleView { intervals[intervalIndex(frame: index)].label }

    /// The pose of interval `index`'s structure at time `t` (nil for background).
    public func pose(interval index: Int, time t: Double) -> StructurePose? {
        guard let look = looks[index] else { return nil }
        let s = t - intervals[index].startSeconds
        func wave(_ i: Int) -> Double { sin(2 * Double.pi * s / look.periods[i] + look.phases[i]) }
        return StructurePose(x: look.x0 + look.amplitude * wave(0), y: look.y0 + look.amplitude * wave(1),
                             size: look.size0 * (1 + 0.05 * wave(3)), angle: look.angle0 + 0.07 * wave(2))
    }

    /// The structure shown in frame `index` and its pose (nil for background).
    public func pose(frame index: Int) -> (label: SampleView, pose: StructurePose?) {
        let j = intervalIndex(frame: index)
        return (intervals[j].label, pose(interval: j, time: Double(index) / Double(spec.framesPerSecond)))
    }

    /// The tissue offset (scene pixels) in frame `index`: slow drift in holds, sweeps between.
    func tissueOffset(frame index: Int) -> (x: Int, y: Int) {
        let j = intervalIndex(frame: index)
        let interval = intervals[j]
        let f = Double(index - interval.startFrame) / Double(max(1, interval.endFrame - interval.startFrame))
        let w = interval.isHold ? f : f * f * (3 - 2 * f)
        let a = offsetKeys[j], b = offsetKeys[j + 1]
        return (Int((a.x + (b.x - a.x) * w).rounded()), Int((a.y + (b.y - a.y) * w).rounded()))
    }

    // MARK: - Gaze

    private enum Target {
        case part(interval: Int, u: Double, v: Double)
        case point(x: Double, y: Double)
    }

    /// Fixations of 0.25–0.7 s on the structure's centre and parts (moving with it), with
    /// small noise and drift, joined by 40 ms saccades; a glance elsewhere in one fixation of
    /// twenty; 0.15–0.45 s fixations anywhere on the screen during background; a 120–300 ms
    /// latency after each change of interval.
    private func makeGaze() -> [GazeSample] {
        var rng = SeededGenerator(seed: spec.seed, stream: 0x6A2E)
        func uniform(_ a: Double, _ b: Double) -> Double { a + (b - a) * rng.nextUnit() }
        let rate = gazeRate
        let count = Int((duration * rate + 1e-9).rounded(.down))
        let sigma = 0.006 * sector.radius
        let saccade = 0.04
        func randomScreenPoint() -> (x: Double, y: Double) {
            if rng.nextUnit() < 0.1 {  // the machine's text band
                return (uniform(0.05, 0.95) * Double(sector.width), Double(sector.bandHeight) / 2)
            }
            let p = sector.point(r: uniform(0.15, 0.95) * sector.radius, angle: uniform(-0.9, 0.9) * sector.halfAngle)
            return p
        }
        func position(_ target: Target, _ t: Double) -> (x: Double, y: Double) {
            switch target {
            case let .point(x, y): return (x, y)
            case let .part(j, u, v):
                guard let pose = pose(interval: j, time: t) else { return (sector.apexX, sector.apexY + sector.radius / 2) }
                return pose.pixel(u: u, v: v)
            }
        }
        let partsByView = Dictionary(uniqueKeysWithValues: options.views.map { ($0, PlaneTemplate($0).parts) })
        var samples: [GazeSample] = []
        samples.reserveCapacity(count)
        var current = sector.point(r: 0.5 * sector.radius, angle: 0)
        var from = current
        var target = Target.point(x: current.x, y: current.y)
        var fixationStart = -1.0, fixationEnd = -1.0
        var drift = (x: 0.0, y: 0.0)
        var lastInterval = -1
        for k in 0..<count {
            let t = Double(k) / rate
            let j = intervalIndex(time: t)
            if j != lastInterval {
                fixationEnd = min(fixationEnd, t + uniform(0.12, 0.3))
                lastInterval = j
            }
            if t >= fixationEnd {
                from = current
                fixationStart = t
                drift = (0, 0)
                if intervals[j].isHold, rng.nextUnit() >= 0.05 {
                    let parts = partsByView[intervals[j].label] ?? [(0, 0)]
                    let part = rng.nextUnit() < 0.35 ? parts[0] : parts[Int(rng.next() % UInt64(parts.count))]
                    target = .part(interval: j, u: part.u + 0.05 * rng.nextGaussian(), v: part.v + 0.05 * rng.nextGaussian())
                    fixationEnd = t + uniform(0.25, 0.7)
                } else {
                    let p = randomScreenPoint()
                    target = .point(x: p.x, y: p.y)
                    fixationEnd = t + (intervals[j].isHold ? uniform(0.15, 0.3) : uniform(0.15, 0.45))
                }
            }
            let goal = position(target, t)
            drift = (0.9 * drift.x + 0.3 * sigma * rng.nextGaussian(), 0.9 * drift.y + 0.3 * sigma * rng.nextGaussian())
            let progress = (t - fixationStart) / saccade
            if progress < 1 {
                let w = progress * progress * (3 - 2 * progress)
                current = (from.x + (goal.x - from.x) * w, from.y + (goal.y - from.y) * w)
            } else {
                current = (goal.x + drift.x + sigma * rng.nextGaussian(), goal.y + drift.y + sigma * rng.nextGaussian())
            }
            current = (min(Double(sector.width - 1), max(0, current.x)), min(Double(sector.height - 1), max(0, current.y)))
            samples.append(GazeSample(time: t, x: current.x, y: current.y))
        }
        return samples
    }
}
