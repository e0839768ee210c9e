#!/usr/bin/env python3
"""Reference log-mel spectrograms from librosa, for Tests/SonoSpectralTests.

For each input signal this writes NAME.input.npy (float32 mono samples) and NAME.logmel.npy
(float32 [frames, mels], librosa computed in float64 from those exact float32 samples) into
Tests/SonoSpectralTests/References/. The tests compare SonoDual's FFTW front end against them
without needing librosa. Run it again only when the reference set changes:

    python3 scripts/reference/make_logmel_references.py
"""
import json
import os
import subprocess
import sys
import tempfile

import librosa
import numpy as np

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "SonoSpectralTests", "References")

CNN14 = dict(sr=32000, n_fft=1024, win_length=1024, hop_length=320, n_mels=64, fmin=50, fmax=14000)
CNN14_16K = dict(sr=16000, n_fft=512, win_length=512, hop_length=160, n_mels=64, fmin=50, fmax=8000)


def logmel(y, p):
    s = librosa.feature.melspectrogram(
        y=y.astype(np.float64), sr=p["sr"], n_fft=p["n_fft"], hop_length=p["hop_length"],
        win_length=p["win_length"], window="hann", center=True, pad_mode="reflect", power=2.0,
        n_mels=p["n_mels"], fmin=p["fmin"], fmax=p["fmax"], htk=False, norm="slaney")
    return np.ascontiguousarray(librosa.power_to_db(s, ref=1.0, amin=1e-10, top_db=None).T, dtype=np.float32)


def speech(sr):
    with tempfile.TemporaryDirectory() as d:
        wav = os.path.join(d, "s.wav")
        subprocess.run(["espeak-ng", "-v", "en", "-s", "160", "-w", wav,
                        "This is the four chamber view."], check=True)
        raw = subprocess.run(["ffmpeg", "-v", "error", "-i", wav, "-ac", "1", "-ar", str(sr),
                              "-f", "f32le", "-"], check=True, capture_output=True).stdout
    return np.frombuffer(raw, dtype=np.float32)[: int(1.6 * sr)]


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(20261127)
    sr = 32000
    t = np.arange(int(1.5 * sr)) / sr
    cases = {
        "chirp": (0.5 * np.sin(2 * np.pi * (50 * t + (14000 - 50) / (2 * 1.5) * t ** 2)), CNN14),
        "speech": (speech(sr), CNN14),
        "silence": (np.zeros(sr // 2), CNN14),
        "clipping": (np.clip(3 * np.sin(2 * np.pi * 440 * t[: sr // 2]), -1, 1), CNN14),
        "white_noise": (0.1 * rng.standard_normal(sr), CNN14),
        "short_700": (0.3 * rng.standard_normal(700), CNN14),
        "short_300": (0.3 * rng.standard_normal(300), CNN14),
        "odd_12345": (0.2 * np.sin(2 * np.pi * 1000 * np.arange(12345) / sr), CNN14),
        "odd_32001": (0.1 * rng.standard_normal(32001), CNN14),
        "speech_16k": (speech(16000), CNN14_16K),
    }
    index = {}
    for name, (y, p) in cases.items():
        y = np.asarray(y, dtype=np.float32)
        np.save(os.path.join(OUT, f"{name}.input.npy"), y)
        np.save(os.path.join(OUT, f"{name}.logmel.npy"), logmel(y, p))
        index[name] = {k: p[k] for k in ("sr", "n_fft", "win_length", "hop_length", "n_mels", "fmin", "fmax")}
    with open(os.path.join(OUT, "index.json"), "w") as f:
        json.dump({"librosa": librosa.__version__, "numpy": np.__version__, "cases": index}, f, indent=1, sort_keys=True)
    print(f"wrote {len(cases)} references to {os.path.normpath(OUT)}")


if __name__ == "__main__":
    sys.exit(main())
