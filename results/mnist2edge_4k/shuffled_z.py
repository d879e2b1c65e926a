"""Issue 18 item 3, a control for the pairing measures: the same generated images paired by the same z and paired
with the z of another pair (G1(z_i) against G2(z_pi(i)), one fixed permutation pi). The shuffled pairs are
unpaired by construction, so their scores are the chance level of the *generated* images; the evaluation's chance
rows use real images, whose stroke statistics differ from generated ones. A third row per run is the per-pair
difference same - shuffled, with its paired standard error (both rows share G1's images).

Record of an analysis, not part of the framework: it uses the evaluation's own pieces (sampling.load_run,
evaluation.pair_generator, metrics.pairing's pixel and class agreement, the evaluation classifier's probe) with the
evaluation's seed and batch.
Usage (from the repository root): python results/mnist2edge_4k/shuffled_z.py CLASSIFIER.keras RUN_DIR...
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import sampling  # noqa: E402
from metrics import evaluation_io as eio  # noqa: E402
from metrics import pairing  # noqa: E402

N, BATCH = 5000, 256


def scores(run_dir, probe):
    cfg = sampling.load_run_config(run_dir)
    run = sampling.load_run(run_dir, None)
    generate = eio.pair_generator(run.generators)
    noise_dim = run.generators[0].input_spec_shape[0]
    zgen = tf.random.Generator.from_seed(eio.EVAL_SEED)   # the evaluation's z
    g1, g2 = [], []
    for start in range(0, N, BATCH):
        a, b = generate(zgen.uniform([min(BATCH, N - start), noise_dim], -1.0, 1.0))
        g1.append(a.numpy())
        g2.append(b.numpy())
    g1, g2 = np.concatenate(g1), np.concatenate(g2)
    perm = np.random.RandomState(0).permutation(N)
    derived = eio.derived_transform(cfg)
    if derived is None:
        raise SystemExit(f"error: {run_dir} is not a run on a derived pair (digits/mnist 2 edge|negative|rotate)")
    labels1, labels2 = (np.concatenate([probe(x[i:i + BATCH])[1] for i in range(0, N, BATCH)]) for x in (g1, g2))
    per_pair = {}
    for name, idx in (("same z", np.arange(N)), ("shuffled z", perm)):
        agree = np.concatenate([pairing.pixel_agreement(pairing.transform_images(g1[i:i + BATCH], *derived),
                                                        g2[idx[i:i + BATCH]])[1] for i in range(0, N, BATCH)])
        per_pair[name] = (agree, pairing.class_agreement(labels1, labels2[idx], multilabel=False))
    # Both rows share G1's images, so their difference has the paired standard error, not the two added.
    per_pair["same - shuffled (paired)"] = tuple(a - b for a, b in zip(per_pair["same z"], per_pair["shuffled z"]))
    return run.step, {k: tuple(pairing.mean_and_se(v) for v in vs) for k, vs in per_pair.items()}


def main(argv):
    if len(argv) < 2:
        raise SystemExit("error: usage: shuffled_z.py CLASSIFIER.keras RUN_DIR...")
    for path in argv:
        if not Path(path).exists():
            raise SystemExit(f"error: {path} does not exist")
    probe, _ = eio.load_probe(argv[0])
    print("| run | step | pairs | pixel agreement | class agreement |\n|---|---|---|---|---|")
    for run_dir in argv[1:]:
        step, out = scores(Path(run_dir), probe)
        for name, ((pm, ps), (cm, cs)) in out.items():
            print(f"| {Path(run_dir).name} | {step} | {name} | {pm:+.4f} ± {ps:.4f} | {cm:+.4f} ± {cs:.4f} |"
                  if name.startswith("same -") else
                  f"| {Path(run_dir).name} | {step} | {name} | {pm:.4f} ± {ps:.4f} | {cm:.4f} ± {cs:.4f} |")


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except SystemExit as e:   # one line on stderr and status 2, as main.py
        if e.code not in (None, 0):
            print(e.code, file=sys.stderr)
            sys.exit(2)
        raise
    except Exception as e:   # e.g. a folder without a run's config or checkpoint (ConfigError)
        print(f"error: {' '.join(str(e).split())}", file=sys.stderr)
        sys.exit(2)
