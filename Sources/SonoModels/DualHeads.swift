import SonoTensor

/// The paper's objective (Multi-Modal Contrastive Learning + Multi-Modal Similarity Learning),
/// as reconstructed in docs/training.md (equation numbers in comments). Every choice of
/// ours there is a field here, so it can be changed when the true form is known.
public struct DualObjectiveConfig: Sendable, Equatable {
    public var latent = 512
    /// τ in the contrastive terms (5).
    public var temperature: Float = 0.1
    /// π between the audio and image branches (8).
    public var pi: Float = 0.5
    /// Symmetric InfoNCE ½[NCE(x→y) + NCE(y→x)] (5); false: one direction x→y.
    public var symmetric = true
    /// One fusion Vθ for audio and image (3); false: one each.
    public var sharedFusion = true
    /// Margin α of the max-violation ranking loss (11).
    public var margin: Float = 0.2
    /// VSE++ sums over the batch; `.mean` divides by N (docs/training.md, 11).
    public var rankingReduction: Reduction = .sum
    /// Adds the (a, i) pair to MMSL (12).
    public var audioImagePair = false
    /// λ in L = L_MMCL + λ·L_MMSL (13).
    public var lambda: Float = 1
    /// Without the image branch (the paper's ablation): L_MMCL = L_A, MMSL on (v, a) only.
    public var useImage = true
    /// Which of the two losses is trained (the paper's "MMCL only" / "MMSL only" ablations).
    public var mmcl = true
    public var mmsl = true
    /// What the fused embeddings z_va = Vθ[z_v; z_a], z_vi = Vθ[z_v; z_i] are contrasted with (6, 7).
    public var fusionTarget: FusionTarget = .video
    /// VSE++'s warm-up: the sum of the violations over all negatives (`max_violation=False`)
    /// while `maxViolation` is false, the hardest negative (11) once it is set; the trainer
    /// sets it from `objective.max_violation_after` (docs/training.md, "Deviations").
    public var maxViolation = true
    /// BatchNorm1d on the MMCL projections, z_m = BN(W_m F_m + b_m) (2): removes the batch's
    /// common component of the from-scratch features (all-positive after ReLU and pooling, so
    /// every pair starts at cosine ≈ 1), as SimCLR's projection head (docs/training.md, "Deviations").
    public var latentBatchNorm = false
    /// Width of a hidden layer in the MMCL projections, z_m = W₂ ReLU(BN(W₁ F_m + b₁)) + b₂, as
    /// SimCLR's projection head (which keeps the features before it richer than a linear one
    /// does); 0: the linear projection (2) [P].
    public var projectorHidden = 0
    /// Weight β of a decorrelation term against dimensional collapse (VICReg's covariance term):
    /// β Σ_m (1/d) Σ_{j≠k} C_jk² with C = Z_mᵀ Z_m / N over the batch's MMCL latents (centred and
    /// scaled by the latent batch norm where it is on); 0: off [C].
    public var decorrelation: Float = 0
    /// Weight γ of an image-only contrastive term γ·L(z_i, z_i′) between the still and a second
    /// view of the moment through the same encoder and projection (SLIP's SimCLR term beside
    /// CLIP's): the cross-modal terms alone let the image encoder match its clip by cues of the
    /// moment that are not the anatomy (docs/training.md, session 7); 0: off [C].
    public var imageSelf: Float = 0

    public init() {}
}

/// The target of the fused terms (docs/training.md, "Deviations"). Vθ sees z_v, so
/// L(z_v, Vθ[z_v; ·]) is solved by Vθ passing z_v through: its loss falls to 0 and teaches
/// nothing about the other modality.
public enum FusionTarget: String, Codable, Sendable, CaseIterable {
    /// [P] L(z_v, Vθ[z_v; z_a]) and L(z_v, Vθ[z_v; z_i]).
    case video
    /// The fused embedding against the modality it did not see: L(z_i, Vθ[z_v; z_a]) and
    /// L(z_a, Vθ[z_v; z_i]); without the image (no image to contrast with) the fused term is dropped.
    case cross
    /// No fused terms: L_A = L(z_a, z_v), L_I = L(z_i, z_v).
    case none
}

/// The paper's variants (Table 3) as named objectives.
public enum ObjectivePreset: String, Codable, Sendable, CaseIterable {
    /// MMCL + MMSL on video, audio and image.
    case full
    /// MMCL only (no similarity heads).
    case mmclOnly = "mmcl-only"
    /// MMSL only (no contrastive projections or fusion).
    case mmslOnly = "mmsl-only"
    /// Video and audio only: the image encoder is not run.
    case noImage = "no-image"

    /// `config` with this variant's terms switched on or off (other settings kept).
    public func applied(to config: DualObjectiveConfig) -> DualObjectiveConfig {
        var c = config
        c.mmcl = self != .mmslOnly
        c.mmsl = self != .mmclOnly
        c.useImage = self != .noImage
        return c
    }
}

/// The value of each loss term of one step (nil: not part of the objective).
public struct LossTerms: Codable, Sendable, Equatable {
    /// L(z_a, z_v), L(z_v, z_va), L(z_i, z_v), L(z_v, z_vi) (6, 7).
    public var nceAudioVideo: Float?, nceVideoFusedAudio: Float?, nceImageVideo: Float?, nceVideoFusedImage: Float?
    /// ℓ_MH(v, a), ℓ_MH(v, i), ℓ_MH(a, i) (11, 12).
    public var rankVideoAudio: Float?, rankVideoImage: Float?, rankAudioImage: Float?
    public var mmcl: Float?, mmsl: Float?
    /// The decorrelation term before its weight (`decorrelation` > 0).
    public var decorrelation: Float?
    /// L(z_i, z_i′), the image-only term before its weight (`imageSelf` > 0 and a second view).
    public var nceImageImage: Float?
    public var total: Float = 0

    /// Each term by its log name (`CodingKeys`), nil where the objective has none; mmcl, mmsl and
    /// the total aside.
    public var named: [(name: String, value: Float?)] {
        [("nce_a_v", nceAudioVideo), ("nce_v_va", nceVideoFusedAudio), ("nce_i_v", nceImageVideo), ("nce_v_vi", nceVideoFusedImage),
         ("nce_i_i", nceImageImage), ("rank_v_a", rankVideoAudio), ("rank_v_i", rankVideoImage), ("rank_a_i", rankAudioImage),
         ("decorrelation", decorrelation)]
    }

    public static let termNames = LossTerms().named.map(\.name)

    /// The terms' mean over several batches (a term missing from any is missing).
    public static func mean(of all: [LossTerms]) -> LossTerms {
        guard let first = all.first else { return LossTerms() }
        var m = LossTerms()
        let paths: [WritableKeyPath<LossTerms, Float?>] = [\.nceAudioVideo, \.nceVideoFusedAudio, \.nceImageVideo, \.nceVideoFusedImage,
                                                          \.rankVideoAudio, \.rankVideoImage, \.rankAudioImage, \.mmcl, \.mmsl, \.decorrelation,
                                                          \.nceImageImage]
        for path in paths where first[keyPath: path] != nil {
            let values = all.compactMap { $0[keyPath: path] }
            if values.count == all.count { m[keyPath: path] = values.reduce(0, +) / Float(values.count) }
        }
        m.total = all.map(\.total).reduce(0, +) / Float(all.count)
        return m
    }

    enum CodingKeys: String, CodingKey {
        case nceAudioVideo = "nce_a_v", nceVideoFusedAudio = "nce_v_va", nceImageVideo = "nce_i_v", nceVideoFusedImage = "nce_v_vi"
        case rankVideoAudio = "rank_v_a", rankVideoImage = "rank_v_i", rankAudioImage = "rank_a_i"
        case nceImageImage = "nce_i_i"
        case mmcl, mmsl, decorrelation, total
    }
}

/// Projections, fusion and similarity heads on top of the three encoders' features.
public final class DualHeads {
    /// The objective; only `maxViolation` changes during a run (the trainer's warm-up).
    public var config: DualObjectiveConfig
    let projectV: Projection, projectA: Projection, projectI: Projection
    let fusionA: LinearLayer, fusionI: LinearLayer
    let headV: (LinearLayer, BatchNorm), headA: (LinearLayer, BatchNorm), headI: (LinearLayer, BatchNorm)

    public init(videoFeatures: Int, audioFeatures: Int, imageFeatures: Int, config: DualObjectiveConfig = DualObjectiveConfig(),
                initialization: Initialization = .xavierUniform(seed: 7)) {
        self.config = config
        let d = config.latent
        func projection(_ features: Int, salt: UInt64) -> Projection {
            Projection(features: features, latent: d, hidden: config.projectorHidden, batchNorm: config.latentBatchNorm,
                       initialization: initialization, salt: salt)
        }
        projectV = projection(videoFeatures, salt: 1)
        projectA = projection(audioFeatures, salt: 2)
        projectI = projection(imageFeatures, salt: 3)
        fusionA = LinearLayer(2 * d, d, initialization: initialization, salt: 4)
        fusionI = config.sharedFusion ? fusionA : LinearLayer(2 * d, d, initialization: initialization, salt: 5)
        headV = (LinearLayer(videoFeatures, d, initialization: initialization, salt: 6), BatchNorm(channels: d))
        headA = (LinearLayer(audioFeatures, d, initialization: initialization, salt: 7), BatchNorm(channels: d))
        headI = (LinearLayer(imageFeatures, d, initialization: initialization, salt: 8), BatchNorm(channels: d))
    }

    /// One MMCL projection z_m (2): the hidden layer with `projectorHidden` (Linear, BN, ReLU),
    /// the linear map, the batch norm with `latentBatchNorm`.
    struct Projection {
        let hidden: (LinearLayer, BatchNorm)?
        let linear: LinearLayer
        let norm: BatchNorm?

        init(features: Int, latent d: Int, hidden h: Int, batchNorm: Bool, initialization: Initialization, salt: UInt64) {
            // Hidden layers take salts 11…13 beside the linear maps' 1…3.
            hidden = h > 0 ? (LinearLayer(features, h, initialization: initialization, salt: salt + 10), BatchNorm(channels: h)) : nil
            linear = LinearLayer(h > 0 ? h : features, d, initialization: initialization, salt: salt)
            norm = batchNorm ? BatchNorm(channels: d) : nil
        }

        func callAsFunction(_ f: Tensor) -> Tensor {
            let z = linear(hidden.map { $0.1($0.0(f), relu: true) } ?? f)
            return norm.map { $0(z) } ?? z
        }
    }

    public struct Losses {
        public var total: Tensor
        public var terms: LossTerms
        /// The MMCL latents z_v, z_a, z_i (nil where not computed), for diagnostics.
        public var latents: [String: Tensor] = [:]
        public var mmcl: Float { terms.mmcl ?? 0 }
        public var mmsl: Float { terms.mmsl ?? 0 }
    }

    /// L for encoder features F_v [N, Dv], F_a [N, Da], F_i [N, Di] of N synchronised samples
    /// (`fi` is not used, and may be nil, when the objective has no image); `imageView` F_i′ is
    /// the image encoder's features of a second view of each moment, for the `imageSelf` term.
    public func loss(video fv: Tensor, audio fa: Tensor, image fi: Tensor?, imageView: Tensor? = nil) -> Losses {
        let c = config
        let image = c.useImage ? fi : nil
        var terms = LossTerms()
        var latents: [String: Tensor] = [:]
        var total: Tensor? = nil
        func add(_ t: Tensor) { total = total.map { $0 + t } ?? t }
        var imageLatent: Tensor? = nil
        if c.mmcl {
            let zv = projectV(fv), za = projectA(fa)   // (2)
            latents["v"] = zv; latents["a"] = za
            let zi = image.map { projectI($0) }
            if let zi { latents["i"] = zi }
            imageLatent = zi
            let av = contrastive(za, zv)
            terms.nceAudioVideo = av.item
            var mmclA = av
            if let fused = fusedTerm(fusionA, zv, za, other: zi) {
                terms.nceVideoFusedAudio = fused.item
                mmclA = mmclA + fused
            }
            var mmcl = mmclA                                                            // (6)
            if let zi {
                let iv = contrastive(zi, zv)
                terms.nceImageVideo = iv.item
                var mmclI = iv
                if let fused = fusedTerm(fusionI, zv, zi, other: za) {
                    terms.nceVideoFusedImage = fused.item
                    mmclI = mmclI + fused
                }
                mmcl = mmcl.scaled(by: c.pi) + mmclI.scaled(by: 1 - c.pi)              // (7, 8)
            }
            terms.mmcl = mmcl.item
            add(mmcl)
            if c.decorrelation > 0 {
                var decorrelation = offDiagonalCovariance(zv) + offDiagonalCovariance(za)
                if let zi { decorrelation = decorrelation + offDiagonalCovariance(zi) }
                terms.decorrelation = decorrelation.item
                add(decorrelation.scaled(by: c.decorrelation))
            }
        }
        if c.imageSelf > 0, let fi = image, let view = imageView {
            let ii = contrastive(imageLatent ?? projectI(fi), projectI(view))
            terms.nceImageImage = ii.item
            add(ii.scaled(by: c.imageSelf))
        }
        if c.mmsl {
            // µ(v) once per step: its batch norm sees each batch once (running statistics).
            let mv = embed(headV, fv), ma = embed(headA, fa)
            let va = ranking(mv, ma)
            terms.rankVideoAudio = va.item
            var mmsl = va                                                               // (12)
            if let fi = image {
                let mi = embed(headI, fi)
                let vi = ranking(mv, mi)
                terms.rankVideoImage = vi.item
                mmsl = mmsl + vi
                if c.audioImagePair {
                    let ai = ranking(ma, mi)
                    terms.rankAudioImage = ai.item
                    mmsl = mmsl + ai
                }
            }
            terms.mmsl = mmsl.item
            add(mmsl.scaled(by: c.lambda))                                              // (13)
        }
        guard let total else { preconditionFailure("an objective with neither MMCL nor MMSL") }
        terms.total = total.item
        return Losses(total: total, terms: terms, latents: latents)
    }

    /// The MMCL latents z_v, z_a, z_i (2) and the MMSL embeddings µ_v, µ_a, µ_i (9), l2-normalised,
    /// for retrieval at validation (call in evaluation mode, without gradients).
    public func retrievalSpaces(video fv: Tensor, audio fa: Tensor, image fi: Tensor?) -> (latent: [Tensor?], similarity: [Tensor?]) {
        let latent: [Tensor?] = [projectV(fv).l2Normalized(), projectA(fa).l2Normalized(),
                                 fi.map { projectI($0).l2Normalized() }]
        let similarity: [Tensor?] = [embed(headV, fv), embed(headA, fa), fi.map { embed(headI, $0) }]
        return (latent, similarity)
    }

    /// A branch's fused term (3; 6, 7): V_θ[z_v; z_m] contrasted with z_v [P] or, with
    /// `fusionTarget = .cross`, with `other`, the modality the fusion did not see (nil without it).
    func fusedTerm(_ fusion: LinearLayer, _ zv: Tensor, _ zm: Tensor, other: Tensor?) -> Tensor? {
        switch config.fusionTarget {
        case .video: return contrastive(zv, fusion(Tensor.concat([zv, zm], axis: 1)))
        case .cross: return other.map { contrastive($0, fusion(Tensor.concat([zv, zm], axis: 1))) }
        case .none: return nil
        }
    }

    /// (1/d) Σ_{j≠k} C_jk² for C = Zᵀ Z / N of latents Z [N, d]: ‖C‖²_F minus the squared diagonal.
    func offDiagonalCovariance(_ z: Tensor) -> Tensor {
        let (n, d) = (z.shape[0], z.shape[1])
        let c = z.transposed(0, 1).matmul(z).scaled(by: 1 / Float(n))
        let diagonal = (z * z).mean(axis: 0)
        return ((c * c).sum() - (diagonal * diagonal).sum()).scaled(by: 1 / Float(d))
    }

    /// InfoNCE with in-batch negatives on cosine similarities / τ (4, 5).
    func contrastive(_ x: Tensor, _ y: Tensor) -> Tensor {
        let n = x.shape[0]
        let s = x.l2Normalized().matmul(y.l2Normalized().transposed(0, 1)).scaled(by: 1 / config.temperature)
        let targets = Array(0..<n)
        let forward = s.crossEntropy(targets: targets)
        guard config.symmetric else { return forward }
        return (forward + s.transposed(0, 1).crossEntropy(targets: targets)).scaled(by: 0.5)
    }

    /// µ(x), l2-normalised: the MMSL head (9) ready for cosine scores (10).
    func embed(_ head: (LinearLayer, BatchNorm), _ f: Tensor) -> Tensor { head.1(head.0(f)).l2Normalized() }

    /// Max-violation ranking between normalised µ(x) and µ(y) (11).
    func ranking(_ mx: Tensor, _ my: Tensor) -> Tensor {
        let scores = mx.matmul(my.transposed(0, 1))
        return config.maxViolation ? scores.maxViolationRankingLoss(margin: config.margin, reduction: config.rankingReduction)
            : scores.sumViolationRankingLoss(margin: config.margin, reduction: config.rankingReduction)
    }

    public func namedParameters() -> [(String, Tensor)] {
        var p = projections.flatMap { prefixed($0.0, $0.1.linear.namedParameters()) } + prefixed("fusion_a", fusionA.namedParameters())
        if !config.sharedFusion { p += prefixed("fusion_i", fusionI.namedParameters()) }
        for (name, head) in [("head_v", headV), ("head_a", headA), ("head_i", headI)] {
            p += prefixed("\(name).0", head.0.namedParameters()) + prefixed("\(name).1", head.1.namedParameters())
        }
        for (name, norm) in latentNorms { p += prefixed(name, norm.namedParameters()) }
        for (name, hidden) in hiddenLayers {
            p += prefixed("\(name).0", hidden.0.namedParameters()) + prefixed("\(name).1", hidden.1.namedParameters())
        }
        return p
    }

    var projections: [(String, Projection)] { [("proj_v", projectV), ("proj_a", projectA), ("proj_i", projectI)] }

    var hiddenLayers: [(String, (LinearLayer, BatchNorm))] {
        projections.compactMap { name, projection in projection.hidden.map { ("\(name)_hidden", $0) } }
    }

    var latentNorms: [(String, BatchNorm)] {
        projections.compactMap { name, projection in projection.norm.map { ("\(name)_bn", $0) } }
    }

    public func namedBatchNorms() -> [(String, BatchNorm)] {
        [("head_v.1", headV.1), ("head_a.1", headA.1), ("head_i.1", headI.1)] + latentNorms + hiddenLayers.map { ("\($0.0).1", $0.1.1) }
    }
}
