"""sonodual.normalization: `normalize.per_sample` as the Swift loader applies it."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from sonodual.normalization import standardize_per_sample  # noqa: E402


def test_each_sample_to_mean_0_std_1():
    rng = np.random.default_rng(0)
    x = (rng.integers(0, 256, size=(3, 4, 8, 8)) / 255).astype(np.float32) * np.float32([[[[0.5]]], [[[1]]], [[[2]]]])
    y = standardize_per_sample(x)
    assert y.dtype == np.float32 and y.shape == x.shape
    for k in range(3):
        ref = (x[k].astype(np.float64) - x[k].mean(dtype=np.float64)) / x[k].std(dtype=np.float64)
        assert np.abs(y[k] - ref).max() < 1e-5
    # An affine change of a sample (gain, offset) does not change its standardised values.
    assert np.abs(standardize_per_sample(3 * x + 1) - y).max() < 1e-4


def test_blank_sample_is_only_centred():
    assert np.array_equal(standardize_per_sample(np.full((2, 5), 3, np.float32)), np.zeros((2, 5), np.float32))
