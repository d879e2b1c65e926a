"""The toy-ring results (thesis Figs. 2.10, 2.11, 2.14) from run folders: one PNG per experiment with the seeds'
modes.png side by side, and a table of modes covered and high-quality share (mean ± std over seeds).

    python scripts/toy_results.py --runs runs_toy --out results/toy

Reads RUNS/<k1|k5|wgangp>_s<SEED>/metrics.json and modes.png (written at the end of training, or by
`python main.py --evaluate RUN`); writes OUT/<experiment>.png and OUT/table.md (and table.csv).

Besides metrics.modes' numbers, the table gives an "on-ring share" for the thesis's WGAN-GP claim ("learned the
shape of the distribution, less precise in the modes", line 488), which mode coverage does not measure: the
share of the evaluation's points (the same 10,000, regenerated from the run's last checkpoint with the
evaluation's noise seed) whose distance from the origin is within 3 std of the ring's radius, the high-quality
criterion taken radially only (real data of the authors' ring: about 0.997).
"""
from __future__ import annotations

import argparse
import csv
import json
import re
from pathlib import Path

import numpy as np

EXPERIMENTS = {"k1": "gan_toy_k1", "k5": "gan_toy_k5", "wgangp": "gan_toy_wgangp"}
THESIS = {"k1": "all 10 modes (Fig. 2.10)", "k5": "6 of 10 modes (Fig. 2.11)",
          "wgangp": "the ring's shape, modes less precise (Fig. 2.14)"}


def collect(runs: Path, prefix: str = "", suffix: str = "") -> dict:
    """{short name: [(seed, metrics.json dict, run folder)]} of the folders PREFIX<k1|k5|wgangp>SUFFIX_s<SEED>,
    seeds in order."""
    found = {k: [] for k in EXPERIMENTS}
    pattern = re.escape(prefix) + r"(k1|k5|wgangp)" + re.escape(suffix) + r"_s(\d+)"
    for d in sorted(runs.iterdir()):
        m = re.fullmatch(pattern, d.name)
        if m and (d / "metrics.json").is_file():
            found[m[1]].append((int(m[2]), json.loads((d / "metrics.json").read_text()), d))
    return {k: sorted(v, key=lambda t: t[0]) for k, v in found.items() if v}


def on_ring_share(run_dir: Path, cfg) -> tuple:
    """-> (share of the evaluation's points with |r - radius| <= 3 std (see the module docstring), their median
    distance from the origin)."""
    import tensorflow as tf

    import data
    import evaluation
    import sampling
    g = sampling.load_run(run_dir).generators[0]
    zgen = tf.random.Generator.from_seed(evaluation.EVAL_SEED)
    shape = [evaluation.TOY_SAMPLES, g.input_spec_shape[0]]
    z = zgen.normal(shape) if cfg.noise_type == "normal" else zgen.uniform(shape, -1.0, 1.0)
    r = np.linalg.norm(np.asarray(g(z, training=False), np.float64), axis=1)
    ring = data.toy_ring(cfg.toy_ring)
    return float(np.mean(np.abs(r - ring.radius) <= 3 * ring.std)), float(np.median(r))


def mean_std(values) -> str:
    v = np.asarray(values, float)
    return f"{v.mean():.2f} ± {v.std(ddof=1) if len(v) > 1 else 0.0:.2f}"


def figure(name: str, rows: list, path: Path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.image as mpimg
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, len(rows), figsize=(2.2 * len(rows), 2.5), squeeze=False)
    for ax, (seed, m, d) in zip(axes[0], rows):
        ax.imshow(mpimg.imread(d / "modes.png"))
        ax.set_title(f"seed {seed}: {m['modes']['covered']}/{m['modes']['modes']}, "
                     f"hq {m['modes']['high_quality']:.2f}", fontsize=7)
        ax.axis("off")
    fig.suptitle(f"{EXPERIMENTS[name]} (step {rows[0][1]['step']:,})", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", default="runs_toy", type=Path)
    p.add_argument("--out", default="results/toy", type=Path)
    p.add_argument("--prefix", default="", help="run folders PREFIX<k1|k5|wgangp>SUFFIX_s<SEED> (a variant's "
                   "runs); the outputs are named with the same prefix and suffix")
    p.add_argument("--suffix", default="")
    a = p.parse_args(argv)
    results = collect(a.runs, a.prefix, a.suffix)
    tag = f"{a.prefix}{{}}{a.suffix}"
    a.out.mkdir(parents=True, exist_ok=True)
    import sys
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from config import Config
    lines = ["| experiment | seeds | modes covered (of 10) | high-quality share | on-ring share | median radius (ring: 3) "
             "| per seed (covered / hq / on-ring) | thesis |", "|---|---|---|---|---|---|---|---|"]
    with open(a.out / f"{tag.format('table')}.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["experiment", "seed", "step", "covered", "modes", "high_quality", "on_ring", "median_radius",
                    "ring", "noise"])
        for name, rows in results.items():
            covered = [m["modes"]["covered"] for _, m, _ in rows]
            hq = [m["modes"]["high_quality"] for _, m, _ in rows]
            ring, radius = zip(*[on_ring_share(d, Config.load(d / "config.json")) for _, _, d in rows])
            per_seed = ", ".join(f"{c} / {h:.2f} / {o:.2f}" for c, h, o in zip(covered, hq, ring))
            lines.append(f"| `{EXPERIMENTS[name]}` | {len(rows)} | {mean_std(covered)} | {mean_std(hq)} | "
                         f"{mean_std(ring)} | {mean_std(radius)} | {per_seed} | {THESIS[name]} |")
            for (seed, m, _), o, rad in zip(rows, ring, radius):
                w.writerow([EXPERIMENTS[name], seed, m["step"], m["modes"]["covered"], m["modes"]["modes"],
                            f"{m['modes']['high_quality']:.4f}", f"{o:.4f}", f"{rad:.3f}", m["ring"].get("name", ""),
                            m.get("noise", "")])
            figure(name, rows, a.out / f"{tag.format(EXPERIMENTS[name])}.png")
    (a.out / f"{tag.format('table')}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
