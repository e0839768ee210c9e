"""Issue 14's learning check at the scale this machine allows: learning curves of the frozen
image encoder's linear probe and of validation retrieval against pretraining steps, for named
run configurations, against the same probe on random initialisations.

Everything goes through the stage executables, on pipelines/learning-set.sh's labelled sample
recordings: one catalog for pretraining (speech-aligned 4 s clips, split by scan; run
data-manifests/runs/learning.toml) and one for the probe (other recordings, `planes` frames at the
pretraining size, four folds by scan), so no objective ever sees a probe scan. Each run is
compared with random initialisation on the same input. Usage (benchmarks/learning.sh):
    python3 benchmarks/learning.py BIN WORK [--scans 48] [--seconds 60] [--steps 900] [--every 300]
        [--model tiny] [--seeds 0,1] [--config NAME=KEY=VALUE,KEY=VALUE ...]

The gain is `sono-eval compare`'s, per fold: the pretrained probe's accuracy on a fold minus the
mean of the random initialisations' on the same fold, with a 95 % t-interval over the folds;
with several --seeds (data.seed: weights, order, augmentation), each seed is a run and the last lines give the gain
over all (seed, fold) pairs, so the spread between seeds is in the interval.
"""
import argparse, json, os, re, subprocess, sys, time, tomllib

# The run config the learning test uses too; the data are pipelines/learning-set.sh's.
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUN = os.path.join(ROOT, "data-manifests", "runs", "learning.toml")
# sono-train's defaults, every key (Swift's RunConfig().toml; TrainerTests keeps them equal).
RUN_DEFAULTS = os.path.join(ROOT, "python", "sonodual", "run_defaults.toml")
LEARNING_SET = os.path.join(ROOT, "pipelines", "learning-set.sh")


def undo_learning():
    """--set values that take every training key learning.toml sets (its optimizer, objective and augment
    tables) back to sono-train's default, so the file stays the one owner of what the learning run adds."""
    learning, defaults = (tomllib.load(open(path, "rb")) for path in (RUN, RUN_DEFAULTS))
    def value(v):
        return json.dumps(v) if isinstance(v, (bool, str)) else repr(v)
    return [f"{table}.{key}={value(defaults[table][key])}" for table in ("optimizer", "objective", "augment")
            for key in learning.get(table, {})]


UNDO_LEARNING = undo_learning()
CONFIGS = {
    # The paper's objective and input as reconstructed (docs/training.md), with its augmentation (flip, shift).
    "paper": UNDO_LEARNING + ["objective.fusion_target=\"video\"", "objective.ranking_reduction=\"sum\"", "objective.max_violation_after=0",
                              "objective.latent_batch_norm=false", "optimizer.lr=3e-3", "optimizer.warmup_steps=0", "normalize.per_sample=false"],
    # sono-train's defaults on the same clips (sessions 4-6 of docs/training.md).
    "defaults": UNDO_LEARNING,
    # The learning check's run (data-manifests/runs/learning.toml).
    "learning": [],
}

def run(bin_dir, name, args, quiet=True):
    out = subprocess.run([os.path.join(bin_dir, name)] + args, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"{name} {' '.join(args)}: exit {out.returncode}\n{out.stderr}")
    return out.stdout


def probe(bin_dir, catalog, features, out):
    """(accuracy, sd over folds, macro F1 over the planes); the report is out/probe.json."""
    text = run(bin_dir, "sono-eval", ["probe", "--catalog", catalog, "--dataset", "planes", "--features", features, "--out", out])
    m = re.search(r"accuracy ([0-9.]+) \(([0-9.]+)\), macro F1 over the planes ([0-9.]+)", text)
    if not m:
        sys.exit(f"no accuracy in: {text}")
    return float(m.group(1)), float(m.group(2)), float(m.group(3))


def gain(bin_dir, candidates, baselines):
    """sono-eval compare's paired accuracy gain over the folds: (gain, lower, upper) of its 95 % interval."""
    args = ["compare"] + [x for c in candidates for x in ("--candidate", os.path.join(c, "probe.json"))]
    args += [x for b in baselines for x in ("--baseline", os.path.join(b, "probe.json"))]
    text = run(bin_dir, "sono-eval", args)
    m = re.search(r"^accuracy [0-9.]+ vs [0-9.]+: gain ([-+0-9.]+)(?: \[95 %: ([-+0-9.]+), ([-+0-9.]+)\])?", text, re.M)
    if not m:
        sys.exit(f"no gain in: {text}")
    return tuple(float(x) if x else float("nan") for x in m.groups())


def main():
    p = argparse.ArgumentParser()
    p.add_argument("bin"); p.add_argument("work")
    p.add_argument("--scans", type=int, default=48); p.add_argument("--seconds", type=int, default=60)
    p.add_argument("--probe-scans", type=int, default=8)
    # Steps, cadence and batch default to the learning run config's (data-manifests/runs/learning.toml).
    learning = tomllib.load(open(RUN, "rb"))
    p.add_argument("--steps", type=int, default=learning["data"]["steps"])
    p.add_argument("--every", type=int, default=learning["validation"]["every"])
    p.add_argument("--batch-size", type=int, default=learning["data"]["batch_size"]); p.add_argument("--model", default="tiny")
    p.add_argument("--seeds", default="0", help="comma-separated data.seed values: one run per seed and config")
    p.add_argument("--config", action="append", default=[], help="NAME=KEY=VALUE,KEY=VALUE over the learning run (or a predefined NAME)")
    a = p.parse_args()
    configs = {}
    for c in a.config or ["paper", "learning"]:
        name, _, sets = c.partition("=")
        configs[name] = CONFIGS[name] if not sets and name in CONFIGS else [s for s in sets.split(",") if s]
    if not configs:
        configs = dict(CONFIGS)
    work = os.path.abspath(a.work)
    os.makedirs(work, exist_ok=True)
    b = a.bin
    t0 = time.time()
    pre, probe_db = os.path.join(work, "pre.sqlite"), os.path.join(work, "probe.sqlite")
    subprocess.run(["bash", LEARNING_SET, b, work, str(a.scans), str(a.seconds), str(a.probe_scans)], check=True,
                   stdout=subprocess.DEVNULL)
    print(f"data: {a.scans} pretraining recordings of {a.seconds} s, {a.probe_scans} probe recordings "
          f"({time.time() - t0:.0f} s)", flush=True)

    features, probes = os.path.join(work, "features.npy"), os.path.join(work, "probes")
    # Random initialisation with each input: standardised per sample (the default) and as it is (the paper's).
    randoms, random_dirs = {}, {}
    for per_sample in (True, False):
        for seed in (0, 1):
            run(b, "sono-embed", ["--catalog", probe_db, "--dataset", "planes", "--model", a.model, "--seed", str(seed),
                                  "--per-sample" if per_sample else "--no-per-sample", "--out", features])
            d = os.path.join(probes, f"random-{a.model}-{'per-sample' if per_sample else 'raw'}-s{seed}")
            randoms.setdefault(per_sample, []).append(probe(b, probe_db, features, d))
            random_dirs.setdefault(per_sample, []).append(d)
    print("| run | step | probe accuracy (sd over folds) | − random (95 % interval over folds) | macro F1 (planes) | val v→i R@1 (× chance) | val v→i median rank | val v→a R@1 |")
    print("|---|---:|---|---:|---:|---:|---:|---:|")
    for per_sample, rs in randoms.items():
        for seed, r in enumerate(rs):
            print(f"| random init, seed {seed}{'' if per_sample else ', raw input'} | 0 | {r[0]:.3f} ({r[1]:.3f}) | | {r[2]:.3f} | | | |", flush=True)
    seeds = [int(x) for x in a.seeds.split(",") if x]
    pooled = {}  # (config, step) → ([probe folders of its seeds], baselines)
    for (name, sets), seed in [(c, k) for c in configs.items() for k in seeds]:
        if len(seeds) > 1 or seed != 0:
            name, sets = f"{name}-s{seed}", sets + [f"data.seed={seed}"]
        out, log = os.path.join(work, "run-" + name), os.path.join(work, name + ".jsonl")
        if os.path.exists(log):
            os.remove(log)
        args = ["--catalog", pre, "--config", RUN, "--model", a.model, "--steps", str(a.steps),
                "--batch-size", str(a.batch_size), "--out", out, "--log", log, "--quiet",
                "--set", f"validation.every={a.every}", "--set", f"checkpoints.every={a.every}", "--set", "checkpoints.keep_last=1000"]
        for s in sets:
            args += ["--set", s]
        t = time.time()
        run(b, "sono-train", args)
        seconds = time.time() - t
        # The run's own input, as it resolved it, picks its random-init baseline.
        baseline_input = not re.search(r"(?m)^per_sample = false", open(os.path.join(out, "run.toml")).read())
        validations = {}
        for line in open(log):
            v = json.loads(line).get("validation")
            if v:
                validations[v["step"]] = (v["metrics"], v["clips"])
        for step in range(a.every, a.steps + 1, a.every):
            run(b, "sono-embed", ["--catalog", probe_db, "--dataset", "planes", "--checkpoint",
                                  os.path.join(out, f"step-{step:06d}.safetensors"), "--out", features])
            d = os.path.join(probes, f"{name}-{step:06d}")
            acc, sd, f1 = probe(b, probe_db, features, d)
            pooled.setdefault((name.rsplit("-s", 1)[0] if len(seeds) > 1 else name, step), ([], random_dirs[baseline_input]))[0].append(d)
            g, lo, hi = gain(b, [d], random_dirs[baseline_input])
            m, clips = validations.get(step, ({}, 1))
            r1 = m.get("v2i_latent_r1", float("nan"))
            print(f"| {name} | {step} | {acc:.3f} ({sd:.3f}) | {g:+.3f} [{lo:+.3f}, {hi:+.3f}] | {f1:.3f} | {r1:.3f} ({r1 * clips:.1f}×) | "
                  f"{m.get('v2i_latent_median_rank', float('nan')):.1f} of {clips} | {m.get('v2a_latent_r1', float('nan')):.3f} |", flush=True)
        print(f"<!-- {name}: {' '.join(sets) or 'defaults'}; {seconds:.0f} s of training -->", flush=True)
    if len(seeds) > 1:
        for (name, step), (candidates, baselines) in pooled.items():
            g, lo, hi = gain(b, candidates, baselines)
            print(f"<!-- {name} at {step} over seeds {a.seeds} and every fold: gain {g:+.3f} [{lo:+.3f}, {hi:+.3f}] -->", flush=True)


if __name__ == "__main__":
    main()
