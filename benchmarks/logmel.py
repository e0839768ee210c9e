#!/usr/bin/env python3
"""Benchmark (issue 3): seconds of audio turned into log-mel per second of wall time on one
thread, SonoDual (FFTW) against librosa.feature.melspectrogram + power_to_db with the same
parameters on the same 10-minute signal, in one command; and the largest dB difference.

Usage: python3 benchmarks/logmel.py SONO_BENCH_BINARY [MINUTES=10]
"""
import json
import os
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("NUMBA_NUM_THREADS", "1")
import librosa  # noqa: E402
import numpy as np  # noqa: E402


def main():
    binary = sys.argv[1]
    minutes = float(sys.argv[2]) if len(sys.argv) > 2 else 10
    sr = 32000
    rng = np.random.default_rng(1)
    n = int(minutes * 60 * sr)
    t = np.arange(n) / sr
    # Speech-like: a tone sweeping 200-3000 Hz, amplitude-modulated, over low noise.
    y = (0.2 * np.sin(2 * np.pi * (200 + 1400 * (1 + np.sin(2 * np.pi * 0.1 * t))) * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t))
         + 0.01 * rng.standard_normal(n)).astype(np.float32)
    with tempfile.TemporaryDirectory() as d:
        src, out = os.path.join(d, "y.npy"), os.path.join(d, "mel.npy")
        np.save(src, y)
        results = {}
        for precision in ("double", "single"):
            r = subprocess.run([binary, "logmel", src, "--out", out, "--precision", precision, "--repeats", "3"],
                               check=True, capture_output=True, text=True)
            results[precision] = (json.loads(r.stdout.strip().splitlines()[-1]), np.load(out))

        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            s = librosa.feature.melspectrogram(y=y, sr=sr, n_fft=1024, hop_length=320, win_length=1024, window="hann",
                                               center=True, pad_mode="reflect", power=2.0, n_mels=64, fmin=50, fmax=14000)
            ref = librosa.power_to_db(s, ref=1.0, amin=1e-10, top_db=None).T
            best = min(best, time.perf_counter() - t0)
    audio_seconds = n / sr
    print(f"signal: {minutes:g} min at {sr} Hz; librosa {librosa.__version__}, numpy {np.__version__}, 1 thread")
    print(f"librosa melspectrogram+power_to_db: {audio_seconds / best:10.0f} x realtime ({best:.2f} s)")
    for precision, (timing, ours) in results.items():
        diff = np.abs(ours - ref)[ref > -100].max()
        print(f"sonodual log-mel ({precision:6s} FFT):   {timing['realtime']:10.0f} x realtime ({timing['seconds']:.3f} s)"
              f"  speed-up {best / timing['seconds']:.1f}x  max |dB diff| {diff:.5f}")


if __name__ == "__main__":
    main()
