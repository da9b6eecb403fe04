#!/usr/bin/env python3
"""A trainer of the trial protocol in Python's standard library: a noisy bowl in log2(lr) whose minimum
sits at lr = 2^-6 at every width (docs/trial-protocol.md). BOWL_MODE makes it misbehave for the tests:
crash, hang, garbage, noobj, nan, fork (leaves a child that outlives it), slow, drift (the optimum moves
by 2^4 per doubling of the width: no µTransfer), obey (asks the sweep after each report whether to stop,
and when told to, leaves RUN_DIR/stopped and exits)."""
import json, math, os, random, sys, time

trial = json.load(open(os.environ["MUP_TRIAL"])) if "MUP_TRIAL" in os.environ else {"params": {}, "width": 64, "seed": 0}
report = os.fdopen(int(os.environ.get("MUP_TRIAL_FD", "2")), "w", buffering=1)
params, width = trial["params"], trial["width"]
lr = params.get("lr", 2 ** -6)
read = ["lr"] + (["mult"] if "mult" in params else [])
mult = params.get("mult", 1.0)
mode = os.environ.get("BOWL_MODE", "")
answers = os.fdopen(trial["answer_fd"], "rb", buffering=0) if mode == "obey" else None
if len(sys.argv) > 1 and sys.argv[1] != "--lr=" + repr(lr):
    print("argv %s does not match lr %r" % (sys.argv[1:], lr), file=sys.stderr)
    sys.exit(3)
rng = random.Random(trial["seed"])
loss = 0.0
for step in range(1, 6):
    center = 6 - (4 * math.log2(width / 16) if mode == "drift" else 0)
    loss = (math.log2(lr) + center) ** 2 / 4 + 1.0 + 8.0 / width + 0.01 * rng.random() + 0.001 * (mult - 1) ** 2
    loss *= 1 + 1.0 / step
    if mode == "nan" and step == 3:
        loss = float("nan")
    report.write(json.dumps({"type": "report", "step": step, "metrics": {"loss": loss}}) + "\n")
    if mode == "obey" and answers.read(1) == b"s":
        open(os.path.join(trial["run_dir"], "stopped"), "w").write("%d\n" % step)
        sys.exit(0)
    if mode == "nan" and step == 3:
        sys.exit(1)
    if mode == "deaf":  # never asks; a pause between reports, so the sweep reads them one at a time
        time.sleep(0.3)
if mode == "crash":
    print("Traceback: something broke", file=sys.stderr)
    sys.exit(3)
if mode == "hang":
    time.sleep(3600)
if mode == "slow":
    time.sleep(0.3)
if mode == "fork" and os.fork() == 0:
    open(os.path.join(trial["run_dir"], "child.pid"), "w").write(str(os.getpid()))
    time.sleep(3600)
if mode == "garbage":
    report.write("this is not json at all\n")
if trial.get("checkpoint"):
    open(trial["checkpoint"], "w").write("weights of width %d\n" % width)
metrics = {"acc": 1 - loss / 10} if mode == "noobj" else {"loss": loss, "acc": 1 - loss / 10}
report.write(json.dumps({"type": "final", "metrics": metrics, "read": read}) + "\n")
