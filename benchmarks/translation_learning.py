"""Do the translation models and the coupled GANs learn digits2edge in minutes? (issue 20, Done when 3 and 5)

    python benchmarks/translation_learning.py --out DIR [--iterations N] [--pix2pix_iterations N]
        [--cyclegan_iterations N] [--unit_iterations N] [--cogan_iterations N] [--scogan_iterations N]
        [--seed 0] [--reuse NAME ...] [--overwrite]

Everything goes through the public command line (`python main.py ...` in a subprocess per run), so the script does
not depend on the trainers' internals. On digits2edge (scikit-learn's 8x8 digits and their edge images at 32 px,
offline) it trains one run each of

    pix2pix    --gan_type pix2pix                  (paired, preset pix2pix)
    cyclegan   --gan_type cyclegan                 (unpaired, preset cyclegan), and a 1-iteration twin `cyclegan_start`
               with the same seed: its evaluation is the cycle error at the start
    unit       --gan_type unit                     (unpaired, preset unit)
    cogan      --gan_type cogan                    (the digits default: preset dcgan, quarter-width generator)
    scogan     --gan_type scogan --semantic_loss   (SL: Table 5.1's best MNIST2edge regulariser that runs offline;
               PL, 0.1019 against SL's 0.1039 gen-gen, needs ImageNet VGG19 weights; SL's digit classifier is trained
               afresh into DIR/cache, so its minutes are in scogan's wall time)

each with its preset and defaults except --iterations (one checkpoint, at the end; four sample grids), evaluates each
with `python main.py --evaluate RUN`, runs `python main.py --report` over the five runs and writes DIR/
translation_learning.md: the Done-when claims with their thresholds, values and PASS/FAIL, wall time per run, the
report table, date, commit, machine and this command. Done when 5 is a claim too: the report is one table with a
column per run. It prints one PASS/FAIL line per claim. Exit status: 0 when
every claim passes, 1 when one fails (or a run fails: the claims it feeds fail), 2 for a usage error.

The thresholds are fixed here, before any outcome (constants below):
  "above chance"   value - chance > SIGMAS (3) x sqrt(se_value^2 + se_chance^2): a one-sided 3-sigma difference of
                   the two means over the evaluated pairs (both standard errors from metrics.json);
  "well above"     (pix2pix against the unpaired baseline) value >= baseline + WELL_ABOVE (0.1) in pixel agreement
                   (a share of pixels: a tenth of an average image's pixels more agreeing), and above it by 3
                   sigma too (the larger of the two thresholds);
  "falling"        (CycleGAN's cycle error) end <= CYCLE_FALL (0.5) x start in each direction: at least halved
                   from the 1-iteration twin's.
Pixel agreement is the share of pixels within 0.1 in [0, 1] (metrics.pairing.DEFAULT_TOLERANCE): for a translation
G_ij(x) against x's own pair, its chance level an unpaired real image of domain j against the same pair; for UNIT's
same-z pairs edge(G1(z)) against G2(z), its chance level an unpaired real pair (the coupled runs' measure).

Iteration defaults: about 4-5 minutes of training loop per model on 2 free cores (Intel Xeon, TF 2.21), ~30 minutes in
all with start-up and evaluation. Rates measured 2026-12-06 on the 2-core dev box while another training run used
it (so indicative): CPU seconds per iteration between steps 20 and 60 of a 60-iteration run (niced 15), and 2 / that
as the rate on 2 free cores (for CoGAN it gives 6.8 it/s; measured alone: 6.7, RESULTS.md "Offline demo"):

    model            batch  CPU s/it  wall it/s under load  est. it/s alone  default iterations  est. minutes
    pix2pix              1     0.176                  5.3             11.4                2500           3.7
    cyclegan             1     0.512                  1.5              3.9                1000           4.3
    unit                32     0.371                  2.2              5.4                1500           4.6
    cogan               32     0.293                  2.2              6.8                2000           4.9
    scogan (SL)         32     0.403                  1.8              5.0                1500           5.0
(scogan's run first trains its SL classifier: 200 steps, ~25 s.)
"""
import argparse
import datetime
import importlib.metadata
import json
import math
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import results_md  # noqa: E402  (no TensorFlow: this driver only starts and reads runs)

DATA = "digits2edge"
SIGMAS = 3.0        # "above": the difference of two means exceeds 3 combined standard errors
WELL_ABOVE = 0.1    # "well above": at least this much more agreement (a share of the pixels) than the baseline
CYCLE_FALL = 0.5    # "falling": the final cycle error at most this fraction of the start's
REPORT_ORDER = ("cogan", "scogan", "pix2pix", "cyclegan", "unit")

# name -> (options of its run besides --iterations, default iterations): about 4-5 minutes of training loop each
# on 2 free cores, from the rates in the module docstring.
MODELS = {
    "pix2pix": (["--gan_type", "pix2pix"], 2500),
    "cyclegan": (["--gan_type", "cyclegan"], 1000),
    "unit": (["--gan_type", "unit"], 1500),
    "cogan": (["--gan_type", "cogan"], 2000),
    "scogan": (["--gan_type", "scogan", "--semantic_loss"], 1500),
}
TWINS = {"cyclegan_start": ("cyclegan", 1)}   # twin name -> (model, iterations): the start of a measure


class _Parser(argparse.ArgumentParser):
    def error(self, message):   # one line and status 2, as main.py's user errors
        self.exit(2, f"error: {message}\n")


def parse(argv=None):
    p = _Parser(description=__doc__.splitlines()[0])
    p.add_argument("--out", required=True, help="work folder: one run folder per model, the logs, the markdown")
    p.add_argument("--iterations", type=int, help="iterations of every model (overrides each model's default)")
    for name, (_, default) in MODELS.items():
        p.add_argument(f"--{name}_iterations", type=int, help=f"iterations of the {name} run (default {default})")
    p.add_argument("--seed", type=int, default=0, help="seed of every run (default 0)")
    p.add_argument("--reuse", nargs="*", default=[], choices=list(MODELS) + list(TWINS),
                   help="keep these runs already trained and evaluated in --out (same iterations) instead of again")
    p.add_argument("--overwrite", action="store_true", help="replace the runs in an existing --out")
    a = p.parse_args(argv)
    bad = [k for k, v in vars(a).items() if k.endswith("iterations") and v is not None and v < 1]
    if bad:
        p.error(f"--{bad[0]} must be >= 1")
    return a


def iterations_of(a) -> dict:
    """Each run's iteration count: its own option, else --iterations, else its default; twins theirs."""
    its = {name: getattr(a, f"{name}_iterations") or a.iterations or default
           for name, (_, default) in MODELS.items()}
    return {**its, **{twin: n for twin, (_, n) in TWINS.items()}}


def train_argv(name: str, iterations: int, seed: int, run_dir: Path) -> list:
    """`main.py` options of one run: the model's own, the data, the budget; samples and one checkpoint at the end."""
    model = TWINS[name][0] if name in TWINS else name
    return [*MODELS[model][0], "--cogan_data", DATA, "--iterations", str(iterations), "--seed", str(seed),
            "--checkpoint_interval", str(iterations), "--sample_interval", str(max(1, iterations // 4)),
            "--no_final_eval", "--dir", str(run_dir), "--overwrite"]


# ---------------------------------------------------------------------------------------------- the claims
def above(value: dict, chance: dict) -> tuple:
    """(passed, threshold) for "value's mean above chance's by SIGMAS combined standard errors"."""
    se = math.hypot(value.get("se") or 0.0, chance.get("se") or 0.0)
    threshold = chance["mean"] + SIGMAS * se
    return value["mean"] > threshold, threshold


def well_above(value: dict, baseline: dict) -> tuple:
    """(passed, threshold): at least WELL_ABOVE over the baseline, and above it by SIGMAS standard errors."""
    threshold = max(baseline["mean"] + WELL_ABOVE, above(value, baseline)[1])
    return value["mean"] >= threshold, threshold


def _pixel(m: dict, direction: str) -> tuple:
    d = m["pixel_agreement"]["directions"][direction]
    return d["translated"]["agreement"], d["real_unpaired"]["agreement"]


def _directions(m: dict) -> list:
    return list(m["pixel_agreement"]["directions"])


def _named(m: dict, key: str) -> str:
    """A direction "1_to_2" or a cycle "1_2_1" with the run's domain names: "1_to_2 (digits -> digits edge)"."""
    names = [m["domains"][int(k) - 1] for k in key.replace("_to_", "_").split("_")]
    return f"{key} ({' -> '.join(names)})"


def claim_pix2pix(ms: dict) -> list:
    """pix2pix's held-out pixel agreement with edge(x) well above the unpaired baseline (direction 1 -> 2)."""
    value, base = _pixel(ms["pix2pix"], "1_to_2")
    ok, thr = well_above(value, base)
    return [("pix2pix", "held-out pixel agreement of G(x) with edge(x) well above the unpaired baseline",
             f"{value['mean']:.4f} (baseline {base['mean']:.4f})", f">= {thr:.4f}", ok)]


def claim_cyclegan(ms: dict) -> list:
    """CycleGAN: pixel agreement above chance in each direction; the cycle error at least halved in each."""
    out = []
    for d in _directions(ms["cyclegan"]):
        value, chance = _pixel(ms["cyclegan"], d)
        ok, thr = above(value, chance)
        out.append(("cyclegan", f"pixel agreement {_named(ms['cyclegan'], d)} above chance",
                    f"{value['mean']:.4f} (chance {chance['mean']:.4f})", f"> {thr:.4f}", ok))
    end, start = ms["cyclegan"]["cycle"]["rows"], ms["cyclegan_start"]["cycle"]["rows"]
    for key, row in end.items():
        thr = CYCLE_FALL * start[key]["mean"]
        out.append(("cyclegan", f"cycle error {_named(ms['cyclegan'], key)} falls (end vs the 1-iteration twin)",
                    f"{row['mean']:.4f} (start {start[key]['mean']:.4f})", f"<= {thr:.4f}", row["mean"] <= thr))
    return out


def claim_unit(ms: dict) -> list:
    """UNIT: same-z pairs and translations (each direction) above chance in pixel agreement."""
    j = ms["unit"]["joint"]["pixel_agreement"]
    ok, thr = above(j["generated"]["agreement"], j["real_unpaired"]["agreement"])
    out = [("unit", "same-z pairs: pixel agreement of edge(G1(z)) with G2(z) above chance",
            f"{j['generated']['agreement']['mean']:.4f} (chance {j['real_unpaired']['agreement']['mean']:.4f})",
            f"> {thr:.4f}", ok)]
    for d in _directions(ms["unit"]):
        value, chance = _pixel(ms["unit"], d)
        ok, thr = above(value, chance)
        out.append(("unit", f"translation {_named(ms['unit'], d)}: pixel agreement above chance",
                    f"{value['mean']:.4f} (chance {chance['mean']:.4f})", f"> {thr:.4f}", ok))
    return out


# claim checker -> the runs whose metrics.json it reads
CLAIMS = {claim_pix2pix: ("pix2pix",), claim_cyclegan: ("cyclegan", "cyclegan_start"), claim_unit: ("unit",)}


def _title(checker) -> str:
    return checker.__doc__.strip().splitlines()[0]


def check_claims(metrics: dict) -> list:
    """[(model, claim, value, threshold, passed)] of every checker; a checker whose runs failed or lack a measure
    gives one failed row saying why."""
    rows = []
    for checker, needs in CLAIMS.items():
        missing = [n for n in needs if n not in metrics]
        if missing:
            rows.append((needs[0], _title(checker), f"no evaluation of {', '.join(missing)}",
                         "-", False))
            continue
        try:
            rows += checker(metrics)
        except (KeyError, TypeError) as e:   # a section skipped or renamed: say which, do not pass
            rows.append((needs[0], _title(checker), f"measure missing ({e!r})", "-", False))
    return rows


# ---------------------------------------------------------------------------------------------- running
def machine() -> str:
    try:
        model = next(ln.split(":", 1)[1].strip() for ln in open("/proc/cpuinfo") if ln.startswith("model name"))
    except (OSError, StopIteration):
        model = platform.processor() or platform.machine()
    return f"{os.cpu_count()}-core CPU ({model}), TF {tf_version()}"


def tf_version() -> str:
    """The installed TensorFlow's version without importing it (the CPU, GPU or plain wheel)."""
    for dist in ("tensorflow", "tensorflow-cpu", "tensorflow_cpu", "tensorflow-intel"):
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            continue
    return "unknown"


def run_main(args: list, log_path: Path, env: dict) -> tuple:
    """`python main.py ARGS` from the repository root, its output to log_path -> (exit status, seconds)."""
    start = time.time()
    with open(log_path, "a") as f:
        f.write(f"$ python main.py {shlex.join(args)}\n")
        f.flush()
        rc = subprocess.run([sys.executable, "main.py", *args], cwd=ROOT, stdout=f, stderr=subprocess.STDOUT,
                            env=env).returncode
    return rc, time.time() - start


def loop_rate(log_text: str) -> str:
    """it/s of the training loop from main.py's "done: N iterations in XmYs" line (compilation included)."""
    m = re.search(r"done: (\d+) iterations in (\d+)m(\d+)s", log_text)
    if not m:
        return "-"
    n, sec = int(m[1]), 60 * int(m[2]) + int(m[3])
    return f"{n / sec:.2f}" if sec else "-"


def finished(run_dir: Path, iterations: int, seed: int) -> bool:
    """Whether run_dir holds a run of these iterations and seed, evaluated (for --reuse)."""
    try:
        cfg = json.loads((run_dir / "config.json").read_text())
    except (OSError, ValueError):
        return False
    return (cfg.get("iterations"), cfg.get("seed")) == (iterations, seed) and (run_dir / "metrics.json").is_file()


def tail(path: Path, n=15) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-n:])


def train_and_evaluate(name, iterations, seed, out, env, reuse, log) -> dict:
    """One run: train, then `--evaluate`. -> {status, train_s, eval_s, rate, command, metrics (or None)}."""
    run_dir, log_path, timing = out / name, out / "logs" / f"{name}.log", out / "logs" / f"{name}.json"
    args = train_argv(name, iterations, seed, run_dir)
    rec = {"command": "python main.py " + shlex.join(args), "iterations": iterations, "train_s": None,
           "eval_s": None, "rate": "-", "metrics": None, "status": "ok"}
    if name in reuse:
        log(f"== {name}: reusing {run_dir}")
        if timing.is_file():   # the wall times of the run that made it
            rec.update({k: v for k, v in json.loads(timing.read_text()).items() if k in ("train_s", "eval_s", "rate")})
        rec["status"] = "reused"
    else:
        log_path.unlink(missing_ok=True)
        log(f"== {name}: {rec['command']}")
        rc, rec["train_s"] = run_main(args, log_path, env)
        rec["rate"] = loop_rate(log_path.read_text(errors="replace"))
        if rc == 0:
            log(f"   trained in {rec['train_s']:.0f} s; evaluating")
            rc, rec["eval_s"] = run_main(["--evaluate", str(run_dir)], log_path, env)
        if rc:
            rec["status"] = f"failed (exit {rc}), see {log_path}"
            log(f"   {rec['status']}:\n{tail(log_path)}")
            return rec
        timing.write_text(json.dumps({k: rec[k] for k in ("command", "iterations", "train_s", "eval_s", "rate")}))
    rec["metrics"] = json.loads((run_dir / "metrics.json").read_text())
    return rec


def report_claim(text: str) -> tuple:
    """Done when 5: the report of the five runs is one table, a column per run (folder names, REPORT_ORDER)."""
    heads = [[c.strip() for c in ln.strip("|").split("|")] for ln in text.splitlines() if ln.startswith("| measure |")]
    cols = heads[0][1:] if heads else []
    ok = len(heads) == 1 and cols == list(REPORT_ORDER)
    return ("report", "`main.py --report` of the five runs: one table, a column per run",
            f"{len(heads)} table(s), columns {', '.join(cols) or '-'}", f"1 table: {', '.join(REPORT_ORDER)}", ok)


def report(out: Path, runs: dict, env: dict, log) -> tuple:
    """`python main.py --report` over the evaluated runs (REPORT_ORDER) -> (its markdown or why it is missing,
    the claim row of report_claim)."""
    dirs = [str(out / n) for n in REPORT_ORDER if runs.get(n, {}).get("metrics")]
    if not dirs:
        return "(no evaluated run)", report_claim("")
    target = out / "report.md"
    args = ["--report", *dirs, "--out", str(target), "--overwrite"]
    log(f"== report: python main.py {shlex.join(args)}")
    rc, _ = run_main(args, out / "logs" / "report.log", env)
    if rc or not target.is_file():
        why = tail(out / "logs" / "report.log")
        return f"(`--report` failed with exit status {rc}: see logs/report.log)\n\n```\n{why}\n```", report_claim("")
    text = target.read_text()
    # Two heading levels down, under this file's own section.
    return "\n".join("##" + ln if ln.startswith("#") else ln for ln in text.splitlines()), report_claim(text)


# ---------------------------------------------------------------------------------------------- writing
def minutes(sec) -> str:
    return "-" if sec is None else f"{sec / 60:.1f}"


def markdown(command: str, runs: dict, claims: list, report_md: str, total_s: float) -> str:
    today, commit, where = datetime.date.today().isoformat(), results_md.commit(), machine()
    lines = [f"# Learning on {DATA}: pix2pix, CycleGAN, UNIT, CoGAN, SCoGAN-SL (issue 20, Done when 3 and 5)", "",
             f"- date: {today}", f"- commit: {commit}", f"- machine: {where} (nproc {os.cpu_count()})",
             f"- command: `{command}`", f"- total: {minutes(total_s)} min", "",
             "Thresholds, fixed before the runs (benchmarks/translation_learning.py): *above chance* = mean above "
             f"the chance level by more than {SIGMAS:g} combined standard errors; *well above* = at least "
             f"baseline + {WELL_ABOVE:g} (and above it by {SIGMAS:g} s.e.); "
             f"*falls* = final cycle error <= {CYCLE_FALL:g} x the 1-iteration twin's. Pixel agreement: share of "
             "pixels within 0.1 in [0, 1].", "",
             "## Claims", "", "| model | claim | value | threshold | result |", "|---|---|---|---|---|"]
    lines += [f"| {m} | {c} | {v} | {t} | {'PASS' if ok else 'FAIL'} |" for m, c, v, t, ok in claims]
    lines += ["", "## Runs", "", "Wall times include the process start and compilation; the evaluation is "
              "`python main.py --evaluate RUN` (LPIPS AlexNet, the default N). Loop it/s from the run's own "
              "`done:` line (compilation included).", "",
              "| run | command | iterations | train wall (min) | loop it/s | evaluate wall (min) | status |",
              "|---|---|---|---|---|---|---|"]
    lines += [f"| {n} | `{r['command']}` | {r['iterations']} | {minutes(r['train_s'])} | {r['rate']} | "
              f"{minutes(r['eval_s'])} | {r['status']} |" for n, r in runs.items()]
    verdicts = ", ".join(f"{m} {sum(c[4] for c in claims if c[0] == m)}/{sum(c[0] == m for c in claims)} PASS"
                         for m in dict.fromkeys(c[0] for c in claims))
    its = ", ".join(f"{n} {r['iterations']}" for n, r in runs.items() if n in MODELS)
    lines += ["", "## `python main.py --report` of the five runs", "", report_md.strip(), "",
              "## Row for benchmarks/RESULTS.md", "",
              "| date | commit | machine | command | iterations | minutes (train, per run) | claims |",
              "|---|---|---|---|---|---|---|",
              f"| {today} | {commit} | {where} | `{command}` | {its} | "
              + ", ".join(f"{n} {minutes(r['train_s'])}" for n, r in runs.items()) + f" | {verdicts} |", ""]
    return "\n".join(lines)


def main(argv=None) -> int:
    a = parse(argv)
    out = Path(a.out).resolve()
    its = iterations_of(a)
    clash = [n for n in its if n not in a.reuse and (out / n).exists()]
    if not a.overwrite and (clash or (out.exists() and any(out.iterdir()) and not a.reuse)):
        print(f"error: {out / clash[0] if clash else out} exists: give --overwrite (or --reuse RUN ... to keep "
              "finished runs)", file=sys.stderr)
        return 2
    stale = [n for n in a.reuse if not finished(out / n, its[n], a.seed)]
    if stale:
        print(f"error: --reuse {stale[0]}: no evaluated {its[stale[0]]}-iteration run of seed {a.seed} in "
              f"{out / stale[0]}", file=sys.stderr)
        return 2
    try:
        (out / "logs").mkdir(parents=True, exist_ok=True)
    except OSError as e:
        print(f"error: cannot make {out}: {e.strerror}", file=sys.stderr)
        return 2
    command = "python benchmarks/translation_learning.py " + shlex.join(argv if argv is not None else sys.argv[1:])
    log = lambda m: print(m, flush=True)  # noqa: E731
    # SL's classifier trained afresh here (its minutes in scogan's wall time); LPIPS weights stay where they are.
    env = {**os.environ, "COUPLED_GAN_CACHE": str(out / "cache"), "TF_CPP_MIN_LOG_LEVEL": "2"}
    if a.overwrite and "scogan" not in a.reuse:
        shutil.rmtree(out / "cache", ignore_errors=True)
    t0 = time.time()
    runs = {name: train_and_evaluate(name, its[name], a.seed, out, env, set(a.reuse), log) for name in its}
    claims = check_claims({n: r["metrics"] for n, r in runs.items() if r["metrics"]})
    report_md, report_row = report(out, runs, env, log)
    claims.append(report_row)
    text = markdown(command, runs, claims, report_md, time.time() - t0)
    (out / "translation_learning.md").write_text(text)
    for model, claim, value, threshold, ok in claims:
        log(f"{'PASS' if ok else 'FAIL'}  {model}: {claim}: {value} (threshold {threshold})")
    log(f"written: {out / 'translation_learning.md'}")
    return 0 if claims and all(c[4] for c in claims) and all(r["metrics"] for r in runs.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
