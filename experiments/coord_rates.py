#!/usr/bin/env python3
"""How often does mup-coord cry wolf, and how often does it catch SP?

    experiments/coord_rates.py [N] [OUT]      (N random settings, default 80; OUT default out/coord-rates)
    experiments/coord_rates.py --summary OUT  (the rates of the settings OUT/settings.jsonl holds)

Draws N small random settings (model MLP or GPT on synthetic data, a span of widths, seeds, steps,
optimizer, learning rate), runs `mup-coord --param both` on each, and reads DIR/verdict.json. Under µP
every setting is a model that is right, so a FAIL is a false alarm; under SP a FAIL is a detection.
The same runs are also judged by the old rule (a layer-step fails when its slope is outside the band,
whatever the noise) from the slopes in verdict.json. Writes OUT/settings.jsonl (one line per setting,
as each finishes) and prints the rates as JSON (docs/coord-check.md quotes them). The settings are
drawn from a fixed seed, so the first K of any run are the same: --summary on a run stopped after K
settings gives what `coord_rates.py K` would.

mup-coord ($MUP_COORD, else build/sweep/mup-coord: copy it elsewhere if you rebuild meanwhile) is
started with an argument list, never through a shell. Each setting runs on one thread
(OMP_NUM_THREADS=1) and costs 1-10 CPU-seconds. A run that stops resumes: the settings already in
OUT/settings.jsonl are drawn again and skipped.
"""
import json
import os
import random
import subprocess
import sys
import time
from collections import Counter, defaultdict

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOOL = os.environ.get("MUP_COORD") or os.path.join(ROOT, "build", "sweep", "mup-coord")


def draw(rng):
    """One setting, as mup-coord's arguments and a short description."""
    model = rng.choice(["mlp", "gpt"])
    optimizer = rng.choice(["adam", "adam", "sgd"])
    lr = {"adam": 0.01, "sgd": 0.5}[optimizer] * rng.choice([0.5, 1.0, 2.0])
    if model == "mlp":
        first, n = rng.choice([32, 64, 128]), rng.choice([3, 4, 5])
    else:
        first, n = rng.choice([32, 64]), rng.choice([3, 4])
    widths = [first << i for i in range(n)]
    seeds, steps = rng.choice([1, 2, 3, 4]), rng.choice([2, 3, 4])
    setting = {"model": model, "optimizer": optimizer, "lr": lr, "widths": widths, "seeds": seeds, "steps": steps,
               "seed": rng.randrange(1000)}
    args = ["--model", model, "--optimizer", optimizer, "--lr", repr(lr), "--widths", ",".join(map(str, widths)),
            "--seeds", str(seeds), "--seed", str(setting["seed"]), "--steps", str(steps), "--param", "both",
            "--base-width", str(first)]
    if model == "gpt":
        args += ["--batch", "4", "--set", "model.block_size=32"]
    return setting, args


def old_rule(run):
    """The verdict of the rule before issue 13: FAIL when any slope is outside [lo, hi] (or NaN)."""
    for v in run["verdicts"]:
        if v["zero"]:
            continue
        s = v["slope"]
        if s is None or not v["lo"] <= s <= v["hi"]:
            return "FAIL"
    return "PASS"


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--summary":
        with open(os.path.join(sys.argv[2], "settings.jsonl")) as f:
            rows = [json.loads(line) for line in f]
        print(json.dumps(summarise(rows, None), indent=2))
        return
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 80
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "out", "coord-rates")
    os.makedirs(out, exist_ok=True)
    rng = random.Random(13)
    env = dict(os.environ, OMP_NUM_THREADS="1")
    path = os.path.join(out, "settings.jsonl")
    rows = []
    if os.path.exists(path):
        with open(path) as f:
            rows = [json.loads(line) for line in f]
    cpu0 = os.times()
    with open(path, "a") as log:
        for i in range(n):
            setting, args = draw(rng)
            if i < len(rows):
                continue  # done before: drawn again only to keep the sequence
            d = os.path.join(out, "run%03d" % i)
            t0, c0 = time.monotonic(), os.times()
            p = subprocess.run([TOOL] + args + ["--out", d], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
            if p.returncode not in (0, 1, 3):
                sys.exit("mup-coord %s: exit %d: %s" % (" ".join(args), p.returncode, p.stderr))
            with open(os.path.join(d, "verdict.json")) as f:
                verdict = json.load(f)
            c1 = os.times()
            cpu = c1.children_user + c1.children_system - c0.children_user - c0.children_system
            row = dict(setting, seconds=round(time.monotonic() - t0, 2), cpu=round(cpu, 2))
            for run in verdict["runs"]:
                p_ = run["parametrization"]
                row[p_] = run["verdict"]
                row[p_ + "_old"] = old_rule(run)
                row[p_ + "_failing"] = run["failing_layers"]
                row["dof"] = run["dof"]
            rows.append(row)
            log.write(json.dumps(row) + "\n")
            log.flush()
            print("%3d %-4s %-4s dof %2d  µP %-12s SP %-12s (old: µP %s, SP %s)" % (
                i, setting["model"], setting["optimizer"], row["dof"], row["mup"], row["sp"], row["mup_old"],
                row["sp_old"]), file=sys.stderr)
    cpu1 = os.times()
    print(json.dumps(summarise(rows, cpu1.children_user + cpu1.children_system - cpu0.children_user
                               - cpu0.children_system), indent=2))


def rates(rows, key):
    c = Counter(r[key] for r in rows)
    return {"settings": len(rows), **{k: c.get(k, 0) for k in ("PASS", "FAIL", "INCONCLUSIVE")}}


def summarise(rows, cpu_seconds):
    cpu = [r["cpu"] for r in rows if "cpu" in r]
    groups = defaultdict(list)
    for r in rows:
        groups["all"].append(r)
        groups["model=" + r["model"]].append(r)
        groups["optimizer=" + r["optimizer"]].append(r)
        groups["dof<=3" if r["dof"] <= 3 else "dof>=4"].append(r)
        if r["dof"] >= 8:
            groups["dof>=8"].append(r)
    return {
        "cpu_seconds": None if cpu_seconds is None else round(cpu_seconds, 1),
        "cpu_seconds_per_setting": round(sum(cpu) / len(cpu), 2) if cpu else None,
        "groups": {
            g: {"mup": rates(rs, "mup"), "sp": rates(rs, "sp"), "mup_old_rule": rates(rs, "mup_old"),
                "sp_old_rule": rates(rs, "sp_old")}
            for g, rs in sorted(groups.items())
        },
    }


if __name__ == "__main__":
    main()
