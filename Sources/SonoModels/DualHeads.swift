import SonoTensor

/// The paper's objective (Multi-Modal Contrastive Learning + Multi-Modal Similarity Learning),
/// as reconstructed in docs/training.md (equation numbers in comments). Every choice of
/// ours there is a field here, so it can be changed when the true form is known.
public struct DualObjectiveConfig: Sendable {
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

    public init() {}
}

/// Projections, fusion and similarity heads on top of the three encoders' features.
public final class DualHeads {
    public let config: DualObjectiveConfig
    let projectV: LinearLayer, projectA: LinearLayer, projectI: LinearLayer
    let fusionA: LinearLayer, fusionI: LinearLayer
    let headV: (LinearLayer, BatchNorm), headA: (LinearLayer, BatchNorm), headI: (LinearLayer, BatchNorm)

    public init(videoFeatures: Int, audioFeatures: Int, imageFeatures: Int, config: DualObjectiveConfig = DualObjectiveConfig(),
                initialization: Initialization = .xavierUniform(seed: 7)) {
        self.config = config
        let d = config.latent
        projectV = LinearLayer(videoFeatures, d, initialization: initialization, salt: 1)
        projectA = LinearLayer(audioFeatures, d, initialization: initialization, salt: 2)
        projectI = LinearLayer(imageFeatures, d, initialization: initialization, salt: 3)
        fusionA = LinearLayer(2 * d, d, initialization: initialization, salt: 4)
        fusionI = config.sharedFusion ? fusionA : LinearLayer(2 * d, d, initialization: initialization, salt: 5)
        headV = (LinearLayer(videoFeatures, d, initialization: initialization, salt: 6), BatchNorm(channels: d))
        headA = (LinearLayer(audioFeatures, d, initialization: initialization, salt: 7), BatchNorm(channels: d))
        headI = (LinearLayer(imageFeatures, d, initialization: initialization, salt: 8), BatchNorm(channels: d))
    }

    public struct Losses {
        public var total: Tensor
        public var mmcl: Float
        public var mmsl: Float
    }

    /// L for encoder features F_v [N, Dv], F_a [N, Da], F_i [N, Di] of N synchronised samples.
    public func loss(video fv: Tensor, audio fa: Tensor, image fi: Tensor?) -> Losses {
        let c = config
        let zv = projectV(fv), za = projectA(fa)                                   // (2)
        let zva = fusionA(Tensor.concat([zv, za], axis: 1))                         // (3)
        let audioBranch = contrastive(za, zv) + contrastive(zv, zva)                // (6)
        var mmcl = audioBranch
        var mmsl = ranking(headV, fv, headA, fa)                                    // (12)
        if c.useImage, let fi {
            let zi = projectI(fi)
            let zvi = fusionI(Tensor.concat([zv, zi], axis: 1))
            let imageBranch = contrastive(zi, zv) + contrastive(zv, zvi)            // (7)
            mmcl = audioBranch.scaled(by: c.pi) + imageBranch.scaled(by: 1 - c.pi)  // (8)
            mmsl = mmsl + ranking(headV, fv, headI, fi)
            if c.audioImagePair { mmsl = mmsl + ranking(headA, fa, headI, fi) }
        }
        let total = mmcl + mmsl.scaled(by: c.lambda)                                // (13)
        return Losses(total: total, mmcl: mmcl.item, mmsl: mmsl.item)
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

    /// Max-violation ranking between µ(x) and µ(y), cosine scores (9-11).
    func ranking(_ hx: (LinearLayer, BatchNorm), _ fx: Tensor, _ hy: (LinearLayer, BatchNorm), _ fy: Tensor) -> Tensor {
        let mx = hx.1(hx.0(fx)).l2Normalized(), my = hy.1(hy.0(fy)).l2Normalized()
        return mx.matmul(my.transposed(0, 1)).maxViolationRankingLoss(margin: config.margin, reduction: config.rankingReduction)
    }

    public func namedParameters() -> [(String, Tensor)] {
        var p = prefixed("proj_v", projectV.namedParameters()) + prefixed("proj_a", projectA.namedParameters())
        p += prefixed("proj_i", projectI.namedParameters()) + prefixed("fusion_a", fusionA.namedParameters())
        if !config.sharedFusion { p += prefixed("fusion_i", fusionI.namedParameters()) }
        for (name, head) in [("head_v", headV), ("head_a", headA), ("head_i", headI)] {
            p += prefixed("\(name).0", head.0.namedParameters()) + prefixed("\(name).1", head.1.namedParameters())
        }
        return p
    }

    public func namedBatchNorms() -> [(String, BatchNorm)] { [("head_v.1", headV.1), ("head_a.1", headA.1), ("head_i.1", headI.1)] }
}
