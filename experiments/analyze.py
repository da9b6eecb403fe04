#!/usr/bin/env python3
"""Turns the experiments' sweep journals into result.json, gnuplot data, scripts and PNGs.

    analyze.py lr-transfer OUT RESULTS   (OUT/<model>-<param>/journal.jsonl -> RESULTS/lr-transfer/)
    analyze.py tuning-cost OUT RESULTS   (OUT/direct-2048, OUT/proxy-128-K and the strategies'
                                          OUT/strategies/STRATEGY/seed-S/proxy-128-K -> RESULTS/tuning-cost/)
    analyze.py tuning-config BASE STRATEGY SEED OUT
                                         (a strategy's config: BASE with search.seed SEED, and for
                                          STRATEGY random+asha or tpe+asha the asha pruner -> OUT)
    analyze.py coord RESULTS             (RESULTS/coord/<model>/verdict.json -> RESULTS/coord/result.json)
    analyze.py depth OUT RESULTS         (OUT/<setting>/journal.jsonl -> RESULTS/depth/)

Only the standard library: the journals are JSON lines (docs/sweep.md), the plots are gnuplot's.
"""
import json
import math
import os
import subprocess
import sys
from collections import defaultdict


def runs(sweep_dir):
    """The journal's run records, the last record of each run id winning (a --force rerun). The width
    goes into the gnuplot scripts' titles: a record whose width is not a whole number is left out."""
    out = {}
    with open(os.path.join(sweep_dir, "journal.jsonl")) as f:
        for line in f:
            try:
                r = json.loads(line)
            except ValueError:
                continue  # a line cut short by a kill; mup-sweep redid that run
            if not isinstance(r, dict) or r.get("type") != "run":
                continue
            if type(r.get("width")) is not int:
                print(f"analyze.py: {sweep_dir}: run {r.get('id')!r} has no whole-number width; left out",
                      file=sys.stderr)
                continue
            out[r["id"]] = r
    return list(out.values())


def objective(r):
    v = r.get("objective")
    return v if r["status"] == "complete" and v is not None and math.isfinite(v) else math.inf


def render(directory, script):
    subprocess.run(["gnuplot", script], cwd=directory, check=True)


# ---- experiment 1: the optimal learning rate against width, µP and SP ----

def lr_table(sweep_dir, axis="width"):
    """{width (or depth): {log2 lr: (mean objective over seeds, seeds)}}; inf when any seed did not
    complete."""
    cells = defaultdict(list)
    for r in runs(sweep_dir):
        if r["phase"] != "proxy" or type(r.get(axis)) is not int:
            continue
        cells[(r[axis], round(math.log2(r["params"]["train.lr"]), 6))].append(objective(r))
    table = defaultdict(dict)
    for (w, x), vals in cells.items():
        table[w][x] = (sum(vals) / len(vals) if all(map(math.isfinite, vals)) else math.inf, len(vals))
    return table


def argmins(table):
    return {w: min(row, key=lambda x: row[x][0]) for w, row in sorted(table.items())}


def wider_is_better(table):
    """The fraction of learning rates at which the objective falls at every step up in width
    (among learning rates where every width completed)."""
    widths = sorted(table)
    lrs = sorted(set.intersection(*(set(table[w]) for w in widths)))
    ok = total = 0
    for x in lrs:
        vals = [table[w][x][0] for w in widths]
        if all(map(math.isfinite, vals)):
            total += 1
            ok += all(a > b for a, b in zip(vals, vals[1:]))
    return ok, total


def lr_transfer(out, results):
    dest = os.path.join(results, "lr-transfer")
    os.makedirs(dest, exist_ok=True)
    result = {}
    for model in ("mlp", "gpt"):
        panels = []
        for param in ("mup", "sp"):
            sweep = os.path.join(out, f"{model}-{param}")
            if not os.path.exists(os.path.join(sweep, "journal.jsonl")):
                continue
            table = lr_table(sweep)
            best = argmins(table)
            ok, total = wider_is_better(table)
            result.setdefault(model, {})[param] = {
                "argmin_log2_lr": {str(w): x for w, x in best.items()},
                "best_objective": {str(w): table[w][best[w]][0] for w in best},
                "wider_is_better_at": f"{ok}/{total} learning rates",
            }
            dat = f"{model}-{param}.dat"
            with open(os.path.join(dest, dat), "w") as f:
                f.write("# one block per width: log2_lr mean_val_loss (diverged runs left out)\n")
                for w in sorted(table):
                    f.write(f"# width {w}\n")
                    for x in sorted(table[w]):
                        v = table[w][x][0]
                        f.write(f"{x} {v if math.isfinite(v) else 'NaN'}\n")
                    f.write("\n\n")
            with open(os.path.join(dest, f"{model}-{param}-best.dat"), "w") as f:
                for w in sorted(best):
                    f.write(f"{best[w]} {table[w][best[w]][0]} {w}\n")
            panels.append((param, dat, sorted(table)))
        if not panels:
            continue
        gp = f"{model}.gp"
        with open(os.path.join(dest, gp), "w") as f:
            f.write(f"# rerun with: gnuplot {gp}\n")
            f.write(f"set terminal pngcairo size {700 * len(panels)},520 enhanced font 'DejaVu Sans,10'\n")
            f.write(f"set output '{model}.png'\nset multiplot layout 1,{len(panels)} title "
                    f"'{model.upper()}: validation loss against learning rate, one line per width'\n")
            f.write("set grid lc rgb '#dddddd'\nset xlabel 'log2 learning rate'\nset ylabel 'validation loss'\n"
                    "set key top left\n")
            ys = [v[0] for p in panels for row in lr_table(os.path.join(out, f"{model}-{p[0]}")).values()
                  for v in row.values() if math.isfinite(v[0])]
            lo, hi = min(ys), min(max(ys), 2 * min(ys) + 1.0)
            f.write(f"set yrange [{lo - 0.02 * (hi - lo)}:{hi}]\n")
            for param, dat, widths in panels:
                f.write(f"set title '{'µP' if param == 'mup' else 'SP'}'\n")
                plots = [f"'{dat}' index {i} using 1:2 with linespoints lw 2 pt 7 ps 0.6 title 'width {w}'"
                         for i, w in enumerate(widths)]
                plots.append(f"'{model}-{param}-best.dat' using 1:2 with points pt 6 ps 2 lc rgb 'black' "
                             "title 'argmin'")
                f.write("plot " + ", \\\n     ".join(plots) + "\n")
            f.write("unset multiplot\n")
        render(dest, gp)
    with open(os.path.join(dest, "result.json"), "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    print(json.dumps(result, indent=2))


# ---- experiment 2: tuning compute, direct search at the target against proxy + transfer ----

def tuning_cost(out, results):
    dest = os.path.join(results, "tuning-cost")
    os.makedirs(dest, exist_ok=True)
    if not os.path.isdir(os.path.join(out, "direct-2048")):
        # `experiments/run tuning-strategies`: the strategies only, beside the committed direct search
        with open(os.path.join(dest, "result.json")) as f:
            points = json.load(f)
        strategies = strategy_points(out)
        points["strategies"] = strategies
        points["targets"] = tuning_targets(points["direct"], strategies)
        with open(os.path.join(dest, "result.json"), "w") as f:
            json.dump(points, f, indent=2)
            f.write("\n")
        strategies_plot(dest, strategies)
        print(json.dumps(points["targets"], indent=2))
        return
    direct = sorted((r for r in runs(os.path.join(out, "direct-2048")) if r["phase"] == "proxy"),
                    key=lambda r: r["trial"])
    points = {"direct": [], "proxy": []}
    best, flops, secs = math.inf, 0.0, 0.0
    for k, r in enumerate(direct, 1):
        best, flops, secs = min(best, objective(r)), flops + r["flops"], secs + r["seconds"]
        if k & (k - 1) == 0:  # budgets 1, 2, 4, 8, 16 trials
            points["direct"].append({"trials": k, "flops": flops, "seconds": secs, "target_objective": best})
    budgets = sorted(int(d.rsplit("-", 1)[1]) for d in os.listdir(out) if d.startswith("proxy-128-"))
    for k in budgets:
        rs = runs(os.path.join(out, f"proxy-128-{k}"))
        target = [r for r in rs if r["phase"] == "target"]
        points["proxy"].append({
            "trials": k,
            "flops": sum(r["flops"] for r in rs),
            "seconds": sum(r["seconds"] for r in rs),
            "proxy_flops": sum(r["flops"] for r in rs if r["phase"] == "proxy"),
            "target_objective": min(map(objective, target)) if target else math.inf,
        })
    strategies = strategy_points(out)
    if strategies:
        points["strategies"] = strategies
        points["targets"] = tuning_targets(points["direct"], strategies)
    with open(os.path.join(dest, "result.json"), "w") as f:
        json.dump(points, f, indent=2)
        f.write("\n")
    for name in ("direct", "proxy"):
        pts = points[name]
        with open(os.path.join(dest, f"{name}.dat"), "w") as f:
            f.write("# flops seconds target_val_loss trials\n")
            for p in pts:
                f.write(f"{p['flops']} {p['seconds']} {p['target_objective']} {p['trials']}\n")
    with open(os.path.join(dest, "tuning.gp"), "w") as f:
        f.write("# rerun with: gnuplot tuning.gp\n"
                "set terminal pngcairo size 760,520 enhanced font 'DejaVu Sans,10'\nset output 'tuning.png'\n"
                "set title 'Best width-2048 validation loss against tuning compute'\n"
                "set logscale x\nset grid lc rgb '#dddddd'\nset xlabel 'tuning compute (multiply-add FLOPs, "
                "target training included)'\nset ylabel 'validation loss of the width-2048 model'\n"
                "set key top right\nset autoscale fix\nset offsets graph 0.05, graph 0.05, graph 0.08, graph 0.08\n"
                "plot 'direct.dat' using 1:3 with linespoints lw 2 pt 7 title 'random search at width 2048', \\\n"
                "     '' using 1:3:(sprintf('%d', $4)) with labels offset 0,1 notitle, \\\n"
                "     'proxy.dat' using 1:3 with linespoints lw 2 pt 5 title 'search at width 128, transfer', \\\n"
                "     '' using 1:3:(sprintf('%d', $4)) with labels offset 0,-1 notitle\n")
    render(dest, "tuning.gp")
    if strategies:
        strategies_plot(dest, strategies)
    print(json.dumps(points, indent=2))


# ---- experiment 2, continued: strategies at the proxy width over several sweep seeds ----

STRATEGIES = ("random", "random+asha", "tpe", "tpe+asha")
# ASHA decides at the runs' evaluations, at rungs 50 and 150 of the 250 steps (a first rung at 25, where
# the warm-up ends, pruned the best trial of proxy-128-64: see experiments/tuning-cost/asha-128-64.json)
PRUNER = {"type": "asha", "min_resource": 50, "reduction_factor": 3}
PRUNE_EVAL_EVERY = 50


def tuning_config(base, strategy, seed, out):
    """Writes STRATEGY's config: BASE (a committed proxy-128-K or tpe-128-K config) with search.seed SEED.
    Only JSON is read and written, so nothing of a config reaches a shell."""
    if strategy not in STRATEGIES:
        sys.exit(f"analyze.py: unknown strategy {strategy!r} (known: {', '.join(STRATEGIES)})")
    if not seed.isdigit():
        sys.exit(f"analyze.py: the seed must be a whole number, got {seed!r}")
    with open(base) as f:
        c = json.load(f)
    sampler = "tpe" if strategy.startswith("tpe") else "random"
    if c["search"]["sampler"] != sampler:
        sys.exit(f"analyze.py: {base} uses the {c['search']['sampler']} sampler, strategy {strategy} needs {sampler}")
    c["name"] = f"{c['name']}-{strategy}-seed{seed}"
    c["search"]["seed"] = int(seed)
    if strategy.endswith("+asha"):
        c["search"]["pruner"] = dict(PRUNER)
        c["train"]["eval_every"] = PRUNE_EVAL_EVERY
    text = json.dumps(c, indent=2) + "\n"
    try:
        with open(out) as f:
            if f.read() == text:
                return  # unchanged: the sweep resumes
    except FileNotFoundError:
        pass
    with open(out, "w") as f:
        f.write(text)


def best_proxy_trial(rs):
    """The trial the transfer picks: the lowest mean objective over seeds at the widest proxy width."""
    proxies = [r for r in rs if r["phase"] == "proxy"]
    if not proxies:
        return None
    widest = max(r["width"] for r in proxies)
    by_trial = defaultdict(list)
    for r in proxies:
        if r["width"] == widest:
            by_trial[r["trial"]].append(objective(r))
    scores = {t: sum(v) / len(v) for t, v in by_trial.items()}
    return min(sorted(scores), key=lambda t: scores[t])


def median(values):
    v = sorted(values)
    n = len(v)
    return v[n // 2] if n % 2 else 0.5 * (v[n // 2 - 1] + v[n // 2])


def strategy_points(out):
    """{strategy: [{trials, seeds, medians and spread over the seeds, each seed's numbers}]} of the sweeps
    under OUT/strategies/ that reached their target."""
    root = os.path.join(out, "strategies")
    result = {}
    for strategy in STRATEGIES:
        sdir = os.path.join(root, strategy)
        if not os.path.isdir(sdir):
            continue
        cells = defaultdict(list)
        for seed_dir in sorted(os.listdir(sdir)):
            if not seed_dir.startswith("seed-"):
                continue
            for d in os.listdir(os.path.join(sdir, seed_dir)):
                sweep = os.path.join(sdir, seed_dir, d)
                if not (d.startswith("proxy-128-") and os.path.isfile(os.path.join(sweep, "journal.jsonl"))):
                    continue
                rs = runs(sweep)
                target = [r for r in rs if r["phase"] == "target"]
                if not target:
                    continue  # not finished
                cells[int(d.rsplit("-", 1)[1])].append({
                    "seed": int(seed_dir[5:]),
                    "flops": sum(r["flops"] for r in rs),
                    "proxy_flops": sum(r["flops"] for r in rs if r["phase"] == "proxy"),
                    "seconds": sum(r["seconds"] for r in rs),
                    "pruned": sum(r["status"] == "pruned" for r in rs),
                    "best_trial": best_proxy_trial(rs),
                    "target_objective": min(map(objective, target)),
                })
        result[strategy] = [{
            "trials": k,
            "seeds": len(each),
            "flops_median": median([e["flops"] for e in each]),
            "target_median": median([e["target_objective"] for e in each]),
            "target_min": min(e["target_objective"] for e in each),
            "target_max": max(e["target_objective"] for e in each),
            "per_seed": sorted(each, key=lambda e: e["seed"]),
        } for k, each in sorted(cells.items())]
    return result


def tuning_targets(direct, strategies):
    """The issue's two targets, measured: a strategy within 0.002 of direct search's best target loss at
    no more than a tenth of the compute direct search took to reach it (medians over seeds); and the
    asha pruner halving the 64-trial random sweep's proxy compute while keeping its best trial."""
    out = {}
    if direct:
        best = min(p["target_objective"] for p in direct)
        flops = min(p["flops"] for p in direct if p["target_objective"] == best)
        out["direct"] = {"best_target_objective": best, "flops": flops}
        for strategy, pts in strategies.items():
            meets = [p["trials"] for p in pts if p["target_median"] <= best + 0.002 and p["flops_median"] <= flops / 10]
            out[f"{strategy}_within_0.002_at_a_tenth"] = meets
    full = {p["seed"]: p for pt in strategies.get("random", []) if pt["trials"] == 64 for p in pt["per_seed"]}
    pruned = {p["seed"]: p for pt in strategies.get("random+asha", []) if pt["trials"] == 64 for p in pt["per_seed"]}
    both = sorted(set(full) & set(pruned))
    if both:
        out["asha_on_random_64"] = [{
            "seed": s,
            "proxy_flops_ratio": pruned[s]["proxy_flops"] / full[s]["proxy_flops"],
            "best_trial_kept": pruned[s]["best_trial"] == full[s]["best_trial"],
        } for s in both]
    return out


def strategies_plot(dest, strategies):
    """strategies.png: best target loss against compute, one line per strategy (median over seeds, the bars
    the seeds' range), beside direct search."""
    plots = ["'direct.dat' using 1:3 with linespoints lw 2 pt 7 lc rgb 'black' title 'random search at width 2048'"]
    for i, (strategy, pts) in enumerate(sorted(strategies.items())):
        dat = f"strategy-{strategy.replace('+', '-')}.dat"
        with open(os.path.join(dest, dat), "w") as f:
            f.write("# flops_median target_median target_min target_max trials seeds\n")
            for p in pts:
                f.write(f"{p['flops_median']} {p['target_median']} {p['target_min']} {p['target_max']} "
                        f"{p['trials']} {p['seeds']}\n")
        plots.append(f"'{dat}' using 1:2:3:4 with yerrorlines lw 2 pt {5 + i} title '{strategy} at width 128, "
                     "transfer'")
    # the strategies' spread sets the y range; direct search's first, far worse budgets run off the top
    lo = min(p["target_min"] for pts in strategies.values() for p in pts) - 0.005
    hi = max(p["target_max"] for pts in strategies.values() for p in pts) + 0.01
    with open(os.path.join(dest, "strategies.gp"), "w") as f:
        f.write("# rerun with: gnuplot strategies.gp\n"
                "set terminal pngcairo size 860,560 enhanced font 'DejaVu Sans,10'\nset output 'strategies.png'\n"
                "set title 'Best width-2048 validation loss against tuning compute (median over sweep seeds, "
                "bars: their range)'\n"
                "set logscale x\nset grid lc rgb '#dddddd'\nset xlabel 'tuning compute (multiply-add FLOPs, "
                "target training included)'\nset ylabel 'validation loss of the width-2048 model'\n"
                f"set key top right\nset autoscale xfix\nset yrange [{lo:.4f}:{hi:.4f}]\nset offsets graph 0.05, graph 0.05, 0, 0\n"
                "plot " + ", \\\n     ".join(plots) + "\n")
    render(dest, "strategies.gp")


# ---- experiment 3: coordinate checks ----


def coord(results):
    summary = {}
    for model in ("mlp", "gpt"):
        with open(os.path.join(results, "coord", model, "verdict.json")) as f:
            verdict = json.load(f)  # what mup-coord judged (docs/coord-check.md)
        summary[model] = {
            run["parametrization"]: {
                "verdict": run["verdict"],
                "layer_steps_within": run["passed"],
                "layer_steps_inconclusive": run["inconclusive"],
                "layer_steps_failing": run["failed"],
                "layer_steps": run["layer_steps"],
                "largest_growth_per_4x_width": round(
                    max(v["ratio_per_4x"] for v in run["verdicts"] if v["ratio_per_4x"] is not None), 3),
                "failing_layers": sorted(run["failing_layers"]),
            }
            for run in verdict["runs"]
        }
    with open(os.path.join(results, "coord", "result.json"), "w") as f:
        json.dump(summary, f, indent=2)
        f.write("\n")
    print(json.dumps(summary, indent=2))


# ---- experiment 4: the optimal learning rate against depth, plain µP against depth scaling ----

DEPTH_SETTINGS = (("off", "plain µP (depth scaling off)"), ("alpha05", "Depth-µP (α = 0.5)"),
                  ("alpha1", "CompleteP (α = 1)"), ("alpha1-eps", "CompleteP (α = 1), ε scaling"))


def fitted_argmin(row):
    """The minimum of the least-squares parabola through every finite point of a depth's curve: each
    trial has seeds of its own, so single points carry trial-to-trial noise that a grid argmin follows
    and a fit over the whole grid averages out. NaN when the fit does not curve up."""
    pts = [(x, v[0]) for x, v in row.items() if math.isfinite(v[0])]
    s = [sum(x ** k for x, _ in pts) for k in range(5)]
    t = [sum(y * x ** k for x, y in pts) for k in range(3)]
    m = [[s[0], s[1], s[2], t[0]], [s[1], s[2], s[3], t[1]], [s[2], s[3], s[4], t[2]]]
    for i in range(3):  # Gauss-Jordan with partial pivoting on the normal equations
        p = max(range(i, 3), key=lambda r: abs(m[r][i]))
        m[i], m[p] = m[p], m[i]
        for r in range(3):
            if r != i:
                f = m[r][i] / m[i][i]
                m[r] = [a - f * b for a, b in zip(m[r], m[i])]
    c1, c2 = m[1][3] / m[1][1], m[2][3] / m[2][2]
    return -c1 / (2 * c2) if c2 > 0 else math.nan


def depth(out, results):
    dest = os.path.join(results, "depth")
    os.makedirs(dest, exist_ok=True)
    result, panels, ys = {}, [], []
    for name, title in DEPTH_SETTINGS:
        sweep = os.path.join(out, name)
        if not os.path.exists(os.path.join(sweep, "journal.jsonl")):
            continue
        table = lr_table(sweep, "depth")
        best = argmins(table)
        depths = sorted(table)
        fitted = {d: round(fitted_argmin(table[d]), 2) for d in depths}
        losses = [table[d][best[d]][0] for d in depths]
        result[name] = {
            "setting": title,
            "argmin_log2_lr": {str(d): best[d] for d in depths},
            "fitted_argmin_log2_lr": {str(d): fitted[d] for d in depths},
            "best_objective": {str(d): table[d][best[d]][0] for d in depths},
            "seeds": min(v[1] for row in table.values() for v in row.values()),
            "deeper_is_better_at_best_lr": all(a > b for a, b in zip(losses, losses[1:])),
        }
        if 4 in best and 16 in best:
            result[name]["argmin_shift_4_to_16"] = best[16] - best[4]
            result[name]["fitted_shift_4_to_16"] = round(fitted[16] - fitted[4], 2)
        dat = f"{name}.dat"
        with open(os.path.join(dest, dat), "w") as f:
            f.write("# one block per depth: log2_lr mean_val_loss (diverged runs left out)\n")
            for d in depths:
                f.write(f"# depth {d}\n")
                for x in sorted(table[d]):
                    v = table[d][x][0]
                    f.write(f"{x} {v if math.isfinite(v) else 'NaN'}\n")
                    ys += [v] if math.isfinite(v) else []
                f.write("\n\n")
        with open(os.path.join(dest, f"{name}-best.dat"), "w") as f:
            for d in depths:
                f.write(f"{best[d]} {table[d][best[d]][0]} {d} {fitted[d]}\n")
        panels.append((name, title, dat, depths))
    if not panels:
        sys.exit(f"analyze.py: no sweep of experiment 4 under {out}")
    targets = {}
    if "argmin_shift_4_to_16" in result.get("alpha1", {}):
        targets["completep_argmin_moves_at_most_0.5_from_depth_4_to_16"] = abs(result["alpha1"]["argmin_shift_4_to_16"]) <= 0.5
        targets["completep_loss_improves_with_every_step_in_depth"] = result["alpha1"]["deeper_is_better_at_best_lr"]
        targets["completep_fitted_argmin_moves_at_most_0.5_from_depth_4_to_16"] = abs(result["alpha1"]["fitted_shift_4_to_16"]) <= 0.5
    if "argmin_shift_4_to_16" in result.get("off", {}):
        targets["plain_mup_argmin_moves_1_or_more_from_depth_4_to_16"] = abs(result["off"]["argmin_shift_4_to_16"]) >= 1
        targets["plain_mup_fitted_argmin_moves_1_or_more_from_depth_4_to_16"] = abs(result["off"]["fitted_shift_4_to_16"]) >= 1
    result["targets"] = targets
    lo, hi = min(ys), min(max(ys), min(ys) + 0.6)
    with open(os.path.join(dest, "depth.gp"), "w") as f:
        f.write("# rerun with: gnuplot depth.gp\n")
        f.write("set terminal pngcairo size 1300,980 enhanced font 'DejaVu Sans,10'\n")
        f.write("set output 'depth.png'\nset multiplot layout 2,2 title "
                "'Character GPT at width 64: validation loss against learning rate, one line per depth'\n")
        f.write("set grid lc rgb '#dddddd'\nset xlabel 'log2 learning rate'\nset ylabel 'validation loss'\n"
                f"set key top left\nset yrange [{lo - 0.02 * (hi - lo)}:{hi}]\n")
        for name, title, dat, depths in panels:
            f.write(f"set title '{title}'\n")
            plots = [f"'{dat}' index {i} using 1:2 with linespoints lw 2 pt 7 ps 0.6 title 'depth {d}'"
                     for i, d in enumerate(depths)]
            plots.append(f"'{name}-best.dat' using 1:2 with points pt 6 ps 2 lc rgb 'black' title 'argmin'")
            f.write("plot " + ", \\\n     ".join(plots) + "\n")
        f.write("unset multiplot\n")
    with open(os.path.join(dest, "argmin.gp"), "w") as f:
        f.write("# rerun with: gnuplot argmin.gp\n"
                "set terminal pngcairo size 760,520 enhanced font 'DejaVu Sans,10'\nset output 'argmin.png'\n"
                "set title 'Best log2 learning rate against depth (grid argmin; dashed: parabola fitted to the whole curve)'\n"
                "set logscale x 2\nset grid lc rgb '#dddddd'\nset xlabel 'depth (blocks)'\n"
                "set ylabel 'log2 learning rate'\nset key bottom left\nset offsets graph 0.05, graph 0.05, 0.25, 0.25\n")
        plots = []
        for i, (name, title, _, _) in enumerate(panels):
            plots.append(f"'{name}-best.dat' using 3:1 with linespoints lw 2 pt 7 lc {i + 1} title '{title}'")
            plots.append(f"'{name}-best.dat' using 3:4 with lines dt 2 lc {i + 1} notitle")
        f.write("plot " + ", \\\n     ".join(plots) + "\n")
    render(dest, "depth.gp")
    render(dest, "argmin.gp")
    with open(os.path.join(dest, "result.json"), "w") as f:
        json.dump(result, f, indent=2, ensure_ascii=False)
        f.write("\n")
    print(json.dumps(result, indent=2, ensure_ascii=False))


# ---- experiment 1's open question: does tuning (and Adam's eps scaling) close µP's gap to SP at 4096? ----

def eps(out, results):
    dest = os.path.join(results, "eps")
    os.makedirs(dest, exist_ok=True)
    result = {}
    for e in ("on", "off"):
        rs = runs(os.path.join(out, f"mlp-4096-eps-{e}"))
        target = [r for r in rs if r["phase"] == "target"]
        proxies = [r for r in rs if r["phase"] == "proxy"]
        result[f"eps_scaling_{e}"] = {
            "best_proxy_trial": best_proxy_trial(rs),
            "best_proxy_objective": min(map(objective, proxies)) if proxies else None,
            "target_width": target[0]["width"] if target else None,
            "target_objective": min(map(objective, target)) if target else None,
            "params": target[0].get("params") if target else None,
        }
    with open(os.path.join(dest, "result.json"), "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    commands = {"lr-transfer": lr_transfer, "tuning-cost": tuning_cost, "tuning-config": tuning_config,
                "coord": coord, "depth": depth, "eps": eps}
    arity = {"lr-transfer": 2, "tuning-cost": 2, "tuning-config": 4, "coord": 1, "depth": 2, "eps": 2}
    if len(sys.argv) < 2 or sys.argv[1] not in commands or len(sys.argv) != 2 + arity[sys.argv[1]]:
        sys.exit(__doc__)
    commands[sys.argv[1]](*sys.argv[2:])
