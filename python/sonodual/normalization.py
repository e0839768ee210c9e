"""Input normalisation as the Swift loader applies it (Sources/SonoLoader), numpy only."""
import numpy as np

# Below this standard deviation a sample is blank and only centred (SampleStandardization.minimumStd).
MINIMUM_STD = 1e-4


def standardize_per_sample(x: np.ndarray) -> np.ndarray:
    """`normalize.per_sample`: each sample of x [N, ...] (a clip over all its frames, or a still) to
    mean 0 and std 1, float32; the moments in float64 as Swift's `SampleStandardization`."""
    x = np.asarray(x, dtype=np.float32)
    flat = x.reshape(len(x), -1)
    count = max(1, flat.shape[1])
    # float64 sums without a float64 copy of the sample (the moments of a 14×128² clip in a tenth of the time).
    mean = flat.sum(axis=1, dtype=np.float64) / count
    std = np.sqrt(np.maximum(0.0, np.einsum("ij,ij->i", flat, flat, dtype=np.float64) / count - mean * mean))
    scale = (1.0 / np.where(std < MINIMUM_STD, 1.0, std)).astype(np.float32)
    out = (flat - mean.astype(np.float32)[:, None]) * scale[:, None]
    return out.reshape(x.shape)
