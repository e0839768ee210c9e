#!/usr/bin/env python3
"""Speech activity benchmark: our detector (sono-bench speech) against Silero VAD on the same
audio, per condition. Usage: speech.py SONO_BENCH DIR [--no-silero] [--json OUT]

DIR holds NAME.mp4 + NAME.speech.json pairs from sono-sample. For each recording both detectors
see the audio decoded from the file (ours: SonoMedia at 32 kHz; Silero: ffmpeg at 16 kHz, the
rate it takes). Scores: frame-level (10 ms frames, a frame is speech when more than half of it is
inside an interval) precision / recall / F1; clip-level, on 2 s clips on a 2 s grid: the clips
selected by min_speech_ratio = 0.25, the fraction of them holding no true speech, and the mean
claimed vs true speech ratio of the selected clips."""
import json, subprocess, sys, time, pathlib
import numpy as np

FRAME = 0.01
CLIP = 2.0
MIN_RATIO = 0.25


def mask(intervals, seconds, step=0.001):
    """Coverage at 1 ms resolution."""
    m = np.zeros(int(np.ceil(seconds / step)) + 1, bool)
    for a, b in intervals:
        m[int(round(a / step)):int(round(b / step))] = True
    return m


def frames(m, width_ms):
    n = len(m) // width_ms
    return m[:n * width_ms].reshape(n, width_ms).mean(1)


def scores(pred, truth, seconds):
    p, t = mask(pred, seconds), mask(truth, seconds)
    pf, tf = frames(p, 10) > 0.5, frames(t, 10) > 0.5
    tp, fp, fn = int((pf & tf).sum()), int((pf & ~tf).sum()), int((~pf & tf).sum())
    P = tp / (tp + fp) if tp + fp else 1.0
    R = tp / (tp + fn) if tp + fn else 1.0
    F = 2 * P * R / (P + R) if P + R else 0.0
    pc, tc = frames(p, 2000), frames(t, 2000)
    sel = pc >= MIN_RATIO
    nsel = int(sel.sum())
    return dict(precision=P, recall=R, f1=F, clips=len(pc), selected=nsel,
                selected_no_speech=int((sel & (tc == 0)).sum()),
                no_speech_fraction=float((sel & (tc == 0)).sum() / nsel) if nsel else 0.0,
                claimed_ratio=float(pc[sel].mean()) if nsel else 0.0,
                true_ratio=float(tc[sel].mean()) if nsel else 0.0,
                true_ratio_all=float(tc.mean()))


def decode16k(path):
    raw = subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-i", str(path), "-vn", "-ac", "1", "-ar", "16000",
                          "-f", "f32le", "pipe:1"], check=True, capture_output=True).stdout
    return np.frombuffer(raw, np.float32).copy()


def main():
    bench, folder = sys.argv[1], pathlib.Path(sys.argv[2])
    use_silero = "--no-silero" not in sys.argv
    out_json = sys.argv[sys.argv.index("--json") + 1] if "--json" in sys.argv else None
    if use_silero:
        import torch
        torch.set_num_threads(1)
        from silero_vad import load_silero_vad, get_speech_timestamps
        model = load_silero_vad()
    rows = []
    for ann in sorted(folder.glob("*.speech.json")):
        name = ann.name[:-len(".speech.json")]
        video = folder / f"{name}.mp4"
        truth = sorted((u["startMicros"] / 1e6, u["endMicros"] / 1e6) for u in json.loads(ann.read_text())["utterances"])
        ours = json.loads(subprocess.run([bench, "speech", str(video)], check=True, capture_output=True, text=True).stdout)
        seconds = ours["seconds"]
        row = dict(name=name, seconds=seconds, ours=scores(ours["intervals"], truth, seconds),
                   ours_detect_s=ours["detect_seconds"], method=ours["method"])
        if use_silero:
            x = decode16k(video)
            start = time.perf_counter()
            stamps = get_speech_timestamps(torch.from_numpy(x), model, sampling_rate=16000)
            row["silero_s"] = time.perf_counter() - start
            row["silero"] = scores([(d["start"] / 16000, d["end"] / 16000) for d in stamps], truth, seconds)
        rows.append(row)
        print_row(row, use_silero)
        sys.stdout.flush()
    if out_json:
        pathlib.Path(out_json).write_text(json.dumps(rows, indent=1))


def fmt(s):
    return (f"{s['precision']:.3f} {s['recall']:.3f} {s['f1']:.3f} | {s['selected']:4d} {s['no_speech_fraction']:.3f} "
            f"{s['claimed_ratio']:.2f}/{s['true_ratio']:.2f}")


def print_row(row, use_silero):
    if print_row.first:
        print(f"{'condition':22s} {'min':>5s} | ours: P     R     F1    | sel  nospch claim/true || "
              + ("silero: P     R     F1    | sel  nospch claim/true" if use_silero else ""))
        print_row.first = False
    line = f"{row['name']:22s} {row['seconds'] / 60:5.1f} | {fmt(row['ours'])}"
    if use_silero:
        line += f" || {fmt(row['silero'])}"
    print(line)


print_row.first = True

if __name__ == "__main__":
    main()
