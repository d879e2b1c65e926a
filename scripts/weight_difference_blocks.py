"""Where Fig. 4.1's weight difference comes from: the sum per generator block, for finished CoGAN / SCoGAN runs.

    python scripts/weight_difference_blocks.py RUN [RUN ...] [--step S]

Fig. 4.1's measure (regularisers.weight_difference, the authors' weight_regularizer) sums mean((w1 - w2)^2) over
every trainable variable of G1 and G2. A CoGAN's shared blocks are the same objects and add 0, so its curve is the
drift of its unshared blocks only; an SCoGAN's covers every block. This prints each block's share (from the newest
checkpoint, or `--step`'s) so that both runs can be compared on the blocks both leave free. Bad input: one line,
status 2.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def table(runs, step=None) -> list:
    """Markdown lines: one column per run, one row per generator block, then the total."""
    import regularisers
    import sampling
    columns, steps = [], []
    for run in runs:
        loaded = sampling.load_run(run, step=step)
        if loaded.cfg.gan_type not in ("cogan", "scogan") or len(loaded.generators) != 2:
            raise ValueError(f"{run}: a two-domain CoGAN or SCoGAN run is needed, not {loaded.cfg.gan_type}")
        columns.append(regularisers.weight_difference_by_block(*loaded.generators))
        steps.append(loaded.step)
    if len({len(c) for c in columns}) != 1:
        raise ValueError("the runs' generators have different numbers of blocks")
    head = [f"{Path(r).name} (step {s:,})" for r, s in zip(runs, steps)]
    lines = ["| block | " + " | ".join(head) + " |", "|---" * (len(runs) + 1) + "|"]
    for k in range(len(columns[0])):
        cells = [("shared: 0" if c[k][0] else f"{c[k][1]:.6f}") for c in columns]
        lines.append(f"| {k + 1} | " + " | ".join(cells) + " |")
    lines.append("| total (Fig. 4.1) | " + " | ".join(f"{sum(d for _, d in c):.6f}" for c in columns) + " |")
    return lines


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("runs", nargs="+", type=Path)
    p.add_argument("--step", type=int, help="a checkpoint's step (default: the newest)")
    a = p.parse_args(argv)
    try:
        for run in a.runs:
            if not (run / "config.json").is_file():
                raise ValueError(f"{run}: not a run folder (no config.json)")
        print("\n".join(table(a.runs, a.step)))
    except (OSError, ValueError) as e:   # ConfigError, RunDirError are ValueErrors
        print(f"error: {' '.join(str(e).split())}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
