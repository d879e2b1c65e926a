"""Evaluating a translation run (pix2pix, CycleGAN, UNIT; issue 20 item 5): `python main.py --evaluate RUN` on a run
whose trainer class has `translators` (the protocol: {(1, 2): G_12, (2, 1): G_21}, only the directions the model
has, each a [-1, 1] batch of domain i -> domain j in Keras inference mode, loaded from RUN/models/).

Images (EVAL_SEED, fixed order, so every run of the same data is scored on the same images):
    paired source   derived pairs (digits2* / mnist2*) and pix2pix's paired folders: data.load_paired's held-out
                    split, x (domain 1) and its pair y (domain 2: transform(x) for derived pairs); the unpaired
                    partner of pair i is pair (i + S // 2) mod S of the S held-out pairs (never itself); the
                    held-out split is unseen by every model (load_pair's domains leave it out: digits2* their
                    tenth, mnist2* MNIST's t10k, or the tenth of a one-split MNIST folder; review 11 H1);
    unpaired source every other set: data.load_pair's two domains, as the coupled evaluation draws them: the
                    training domains, not held-out images (official CycleGAN numbers use testA/testB).
Domain 1 is the `cogan_data` pair's first domain, or for pix2pix the input side of its --direction.

LPIPS rows (mean over N ± standard error, the same metrics.LPIPS as the coupled table), for each direction i -> j:
    Real d_i vs Translated d_j      x against G_ij(x): how far a translation moves its input
    Translated d_j vs Real d_j      G_ij(x) against an unpaired real image of domain j
    Translated d_j vs truth         G_ij(x) against x's own pair (paired source only)
and once: Real d1 vs Real d2 (the unpaired baseline) and, paired source only, the ground-truth ceiling Real d1 vs
its pair (what Real d1 vs Translated d2 of a perfect translator gives; a coupled run's evaluation has the same
number, GroundTruthCeiling in metrics/measures.py, on the first min(N, S) held-out pairs: equal for equal counts).
Beyond LPIPS: the cycle reconstruction error mean |G_ji(G_ij(x)) - x| where both directions exist; pixel
agreement of G_ij(x) with x's pair against an unpaired real image (derived pairs; metrics.pairing); class agreement
of x and G_ij(x) under --eval_classifier against unpaired real images (chance level).

N: --num, else the run's eval_pairs, else the held-out split's size (paired source) or the thesis's count
(unpaired source), capped at the images there are.

Same-z joint samples (issue 20 item 4: UNIT; a trainer class with `joint_generators`): the section "joint" holds what
a coupled run's evaluation computes, with its code (metrics.measures' LpipsTable and PixelAgreement) and its keys, on
its images: (G1(z), G2(z)) in inference mode, z drawn batch by batch as
tf.random.Generator.from_seed(EVAL_SEED).normal([b, *latent_shape]), against load_pair's real images (EVAL_SEED),
N as a coupled run's (--num, eval_pairs, the thesis's count; capped). So its gen1_vs_gen2 is the coupled table's row
(report.py puts both in one row), and it writes the coupled run's lpips_lowest/highest.png figures.

metrics.json / metrics.md / metrics_history.jsonl are written by evaluation.py's writers. This module imports
TensorFlow only inside its functions (report.py reads its constants).
"""
from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np

import run_folder
from config import ConfigError
from data_sources import specs
from metrics.held_out import paired_batches, skipped_section as _skipped
from metrics.markdown import pm

log = run_folder.logger("evaluation").info

KIND = "translation"   # metrics.json's "kind" of a translation run's evaluation (report.py tells the kinds apart)
BASELINE = ("real1_vs_real2", "Real {d1} vs Real {d2} (unpaired baseline)")   # the coupled table's key and label
CEILING = ("real1_vs_truth2", "Real {d1} vs its pair in {d2} (ground-truth ceiling)")
CYCLE_LABEL = "G_{j}{i}(G_{i}{j}(x)) vs x, x a real {di} image"
# metrics.json's "source" by whether the data has pairs (review A2.2: unpaired sets are scored on the training domains)
SOURCES = {True: "held-out pairs (data.load_paired, split test)",
           False: "unpaired real images (data.load_pair: the training domains)"}


# ---------------------------------------------------------------------------------------------- what to compare
def direction_rows(i: int, j: int, paired: bool) -> list:
    """[(key, label template, image a, image b)] of direction i -> j: the LPIPS rows of one translator. Images:
    real<k> the inputs of domain k, other<k> unpaired real images of domain k, trans<k> translations into k."""
    rows = [(f"real{i}_vs_trans{j}", f"Real {{d{i}}} vs Translated {{d{j}}} (x vs G_{i}{j}(x))",
             f"real{i}", f"trans{j}"),
            (f"trans{j}_vs_real{j}", f"Translated {{d{j}}} vs Real {{d{j}}} (unpaired)", f"trans{j}", f"other{j}")]
    if paired:
        rows.append((f"trans{j}_vs_truth{j}", f"Translated {{d{j}}} vs ground truth (x's own pair in {{d{j}}})",
                     f"trans{j}", f"real{j}"))
    return rows


def lpips_rows(directions, paired: bool) -> list:
    """Every LPIPS row of a translation run, in table order: each direction's, the baseline, the ceiling."""
    rows = [r for i, j in sorted(directions) for r in direction_rows(i, j, paired)]
    rows.append(BASELINE + ("real1", "other2"))
    if paired:
        rows.append(CEILING + ("real1", "real2"))
    return rows


# Every row key a translation table may hold, with its label template, in table order (report.py's labels).
ROWS = tuple((k, label) for k, label, _, _ in lpips_rows([(1, 2), (2, 1)], True))


def is_translation(cfg) -> bool:
    """Whether a run's trainer translates (its class has the protocol's `translators`)."""
    from trainers import get_trainer
    return hasattr(get_trainer(cfg.gan_type), "translators")


def paired_source(cfg) -> bool:
    """Whether the run's data has pairs to score against: a derived set, or a paired trainer's data (folders)."""
    from trainers import get_trainer
    return (specs.derived_transform(cfg.cogan_data) is not None
            or getattr(get_trainer(cfg.gan_type), "data_kind", None) == "paired")


def domain_names(cfg) -> tuple:
    """(domain 1, domain 2) readable: the pair's names (a paired folder: its sides A and B), in --direction's order."""
    names = ("A", "B") if cfg.paired_dir else specs.domain_names(cfg.cogan_data, cfg.domain_a, cfg.domain_b)
    return tuple(names) if (cfg.direction or "AtoB") == "AtoB" else tuple(names)[::-1]


# ---------------------------------------------------------------------------------------------- images
def unpaired_batches(cfg, batch):
    """-> (iterator of {real1, real2, other1, other2}, (size 1, size 2)): load_pair's two domains (as the coupled
    evaluation draws them); each domain's images are unpaired with the other's, so other<k> = real<k>."""
    from metrics import evaluation_io
    it_a, it_b, sizes = evaluation_io.real_images(cfg, batch)

    def batches():
        for a, b in zip(it_a, it_b):
            a, b = a.numpy(), b.numpy()
            yield {"real1": a, "real2": b, "other1": a, "other2": b}
    return batches(), sizes


# ---------------------------------------------------------------------------------------------- the evaluation
def resolve_pairs(num, cfg, paired, sizes) -> tuple:
    """(N, where it comes from, notes): --num, else eval_pairs, else the held-out size (paired) or the thesis's
    count (unpaired); capped at the images there are."""
    from metrics import evaluation_io
    if not paired:
        return evaluation_io.resolve_num(num, cfg, sizes)
    held = int(sizes[0])
    n, source, notes = evaluation_io.resolve_num(num, cfg, default=(held, "the held-out split's size"))
    if n > held:
        notes.append(f"N capped at {held:,} (asked for {n:,}, {source}): the held-out split has {held:,} pairs")
        n = held
    return n, source, notes


def _translate(fns, im):
    """Adds trans<j> = G_ij(real<i>) for each translator and cycle<i> = G_ji(G_ij(real<i>)) where both exist."""
    import tensorflow as tf
    run = (lambda f, x: np.asarray(f(tf.constant(x)), np.float32))
    for (i, j), f in fns.items():
        im[f"trans{j}"] = run(f, im[f"real{i}"])
    for (i, j), f in fns.items():
        if (j, i) in fns:
            im[f"cycle{i}"] = run(fns[(j, i)], im[f"trans{j}"])


class _Tally:
    """Per-pair values of every measure over the batches (memory: the value arrays, not the images)."""

    def __init__(self, rows, fns, pixel, probe):
        self.rows, self.fns, self.pixel, self.probe = rows, fns, pixel, probe
        self.lpips = {key: [] for key, _, _, _ in rows}
        self.cycle = {f"{i}_{j}_{i}": [] for i, j in fns if (j, i) in fns}
        self.pix = {f"{i}_to_{j}": {k: [] for k in ("t_mad", "t_agree", "r_mad", "r_agree")} for i, j in fns}
        self.cls = {f"{i}_to_{j}": {"translated": [], "real_unpaired": []} for i, j in fns}

    def add(self, im, lpips):
        from metrics import pairing
        for key, _, a, b in self.rows:
            self.lpips[key].append(np.asarray(lpips(im[a], im[b]), np.float32).reshape(-1))
        for key in self.cycle:
            i = key[0]
            self.cycle[key].append(np.abs(im[f"cycle{i}"] - im[f"real{i}"]).mean(axis=(1, 2, 3)))
        logits = {}
        for i, j in self.fns:
            d = f"{i}_to_{j}"
            if self.pixel:   # the pair's own y is transform(x) exactly as data.py builds domain 2
                for who, img in (("t", im[f"trans{j}"]), ("r", im[f"other{j}"])):
                    mad, agree = pairing.pixel_agreement(im[f"real{j}"], img)
                    self.pix[d][f"{who}_mad"].append(mad)
                    self.pix[d][f"{who}_agree"].append(agree)
            if self.probe is not None:
                for k in (f"real{i}", f"trans{j}", f"other{j}"):
                    if k not in logits:
                        logits[k] = self.probe(im[k])[1]
                for who, k in (("translated", f"trans{j}"), ("real_unpaired", f"other{j}")):
                    self.cls[d][who].append(pairing.class_agreement(logits[f"real{i}"], logits[k],
                                                                    self.probe.multilabel))


def _sections(t, names, paired, derived, probe, classifier, meta, lpips_net) -> dict:
    """The tallies -> metrics.json's sections: lpips, cycle, pixel_agreement, class_agreement."""
    from metrics import pairing
    from metrics.measures import HOW_TO_CLASSIFIER, summary
    fmt = {f"d{k}": name for k, name in enumerate(names, 1)}
    out = {"lpips": {"net": lpips_net, "version": "0.1",
                     "rows": {key: {"label": label.format(**fmt), **summary(t.lpips[key])}
                              for key, label, _, _ in t.rows}}}
    if t.cycle:
        out["cycle"] = {"definition": "mean over pixels and channels of |G_ji(G_ij(x)) - x| per image, x a real "
                                      "image of domain i in [-1, 1]",
                        "rows": {key: {"label": CYCLE_LABEL.format(i=key[0], j=key[2], di=fmt[f"d{key[0]}"]),
                                       **summary(v)} for key, v in t.cycle.items()}}
    else:
        out["cycle"] = {"skipped": "the model translates one way only (no G_ji to reconstruct with)"}
    if t.pixel:
        pix = (lambda v, who: {"mean_abs_diff": summary(v[f"{who}_mad"]), "agreement": summary(v[f"{who}_agree"])})
        out["pixel_agreement"] = {
            "truth": f"x's own pair (the two are related by the {derived[0]} transform, as data.py builds it)",
            "tolerance": pairing.DEFAULT_TOLERANCE,
            "directions": {d: {"translated": pix(v, "t"), "real_unpaired": pix(v, "r")} for d, v in t.pix.items()}}
    else:
        why = "only for derived pairs (digits/mnist 2 edge|negative|rotate), whose pairs are a known transform"
        out["pixel_agreement"] = {"skipped": why if not paired else why + "; this run's pairs are photographs"}
    if probe is None:
        out["class_agreement"] = {"skipped": f"no evaluation classifier: {HOW_TO_CLASSIFIER}"}
    else:
        out["class_agreement"] = {"classifier": str(classifier), "multilabel": probe.multilabel,
                                  "names": (meta or {}).get("names"),
                                  "directions": {d: {k: summary(v) for k, v in c.items()} for d, c in t.cls.items()}}
    return out


def evaluate(run_dir, cfg, *, num=None, step=None, net="alex", eval_classifier=None, batch_size=None, lpips=None,
             download=None) -> dict:
    """Score a translation run (evaluation.evaluate dispatches here) and write metrics.json, metrics.md and the
    history line into `run_dir`. Arguments as evaluation.evaluate's (num: pairs; lpips: a ready metrics.LPIPS or
    anything whose call (x, y) gives one distance per pair). --step must be the step of the weights in models/,
    the only weights the protocol's translators load. Returns the dict written to metrics.json."""
    from metrics import evaluation_io
    from metrics import LPIPS
    from metrics import weights as lpips_weights
    from sampling import example_shape, models_step
    from trainers import get_trainer

    t0 = time.time()
    run_dir = Path(run_dir)
    for name, value in (("--num", num), ("--batch_size", batch_size)):
        if value is not None and int(value) < 1:
            raise ConfigError(f"{name} must be at least 1 (got {value})")
    at, step_note = models_step(run_dir, cfg)
    if step is not None and int(step) != at:
        raise ConfigError(f"--step {step}: a {cfg.gan_type} run is scored from its final weights in "
                          f"{run_dir / 'models'} (step {at}); leave --step out")
    if eval_classifier is not None:
        eval_classifier = evaluation_io.check_eval_classifier(eval_classifier, cfg)
    if lpips is None:
        try:
            lpips = LPIPS(net, download=cfg.download if download is None else download)
        except lpips_weights.WeightsError as e:
            raise ConfigError(" ".join(str(e).split())) from None
    probe, meta = evaluation_io.load_probe(eval_classifier) if eval_classifier is not None else (None, None)
    batch = int(batch_size or (256 if (cfg.image_size or 32) <= 64 else 64))
    # Eight image batches (real, unpaired real, translated, reconstructed; both domains) and LPIPS' features.
    pixels = (cfg.image_size or 32) ** 2 * 3
    short = run_folder.memory_shortfall(4.0 * 8 * 2 * batch * pixels, f"--batch_size {batch:,}")
    if short:
        raise ConfigError(short)

    fns = get_trainer(cfg.gan_type).translators(cfg, example_shape(cfg), run_dir / "models")
    paired = paired_source(cfg)
    it, sizes = paired_batches(cfg, batch) if paired else unpaired_batches(cfg, batch)
    sizes = (sizes,) if paired else tuple(sizes)
    n, source, notes = resolve_pairs(num, cfg, paired, sizes)
    notes += [step_note] if step_note else []
    # pixel agreement needs x's own pair to be its known transform
    derived = specs.derived_transform(cfg.cogan_data) if paired and not cfg.paired_dir else None
    names = domain_names(cfg)
    tally = _Tally(lpips_rows(fns, paired), fns, bool(derived), probe)
    log(f"evaluating the translations of {run_dir} (step {at}) on {n:,} "
        f"{'held-out pairs' if paired else 'real images per domain'}, batch {batch}")
    done, batches = 0, math.ceil(n / batch)
    every, t_loop = max(1, batches // 10), time.time()
    for k in range(batches):
        im = next(it)
        b = min(len(im["real1"]), n - done)
        im = {key: v[:b] for key, v in im.items()}
        _translate(fns, im)
        tally.add(im, lpips)
        done += b
        if (k + 1) % every == 0 and done < n:
            log(f"evaluate: {done:,}/{n:,} ({run_folder.format_duration(time.time() - t_loop)})")

    result = {
        "run_dir": str(run_dir), "step": at, "gan_type": cfg.gan_type, "kind": KIND, "data": cfg.data_name,
        "domains": list(names), "directions": [f"{i}_to_{j}" for i, j in sorted(fns)], "image_size": cfg.image_size,
        "source": SOURCES[paired],
        "pairs": n, "pairs_source": source, "real_images_available": list(sizes), "seed": evaluation_io.EVAL_SEED,
        "batch_size": batch, "notes": notes}
    result.update(_sections(tally, names, paired, derived, probe, eval_classifier, meta, lpips.net))
    if hasattr(get_trainer(cfg.gan_type), "joint_generators"):
        result["joint"] = joint_section(run_dir, cfg, lpips, num, batch, names)
    result["seconds"] = round(time.time() - t0, 1)
    evaluation_io.write_metrics(run_dir, result, render_markdown(result))
    log(f"wrote {run_dir / 'metrics.md'} and metrics.json ({run_folder.format_duration(result['seconds'])})")
    return result


# ---------------------------------------------------------------------------------------------- same-z pairs
# The coupled evaluation's measures (metrics.measures.MEASURES) a joint section holds: the ones of same-z pairs that
# need no classifier and are cheap on CPU (class agreement and FID are the translations' / coupled runs' business).
JOINT_MEASURES = ("lpips", "pixel_agreement")


def joint_latents(latent_shape, n, batch):
    """The joint section's z, batch by batch (the contract a test redraws): N(0, I) of `latent_shape` from
    tf.random.Generator.from_seed(EVAL_SEED), min(batch, what is left) per draw."""
    import tensorflow as tf

    from metrics import evaluation_io
    zgen = tf.random.Generator.from_seed(evaluation_io.EVAL_SEED)
    for done in range(0, n, batch):
        yield zgen.normal([min(batch, n - done), *latent_shape])


def joint_section(run_dir, cfg, lpips, num, batch, names) -> dict:
    """Same-z joint samples (G1(z), G2(z)) scored as a coupled run (issue 20 item 4): the LPIPS table (rows
    gen1_vs_gen2, gen1_vs_real1, gen2_vs_real2, real1_vs_real2, the cross cells; lpips_lowest/highest.png) and, for
    derived pairs, pixel agreement of transform(G1(z)) with G2(z), on load_pair's real images as evaluation.evaluate
    draws them. -> metrics.json's "joint" section."""
    from metrics import evaluation_io
    from metrics import measures
    from sampling import example_shape
    from trainers import get_trainer

    latent, g1, g2 = get_trainer(cfg.gan_type).joint_generators(cfg, example_shape(cfg), run_dir / "models")
    it_a, it_b, sizes = evaluation_io.real_images(cfg, batch)
    n, source, notes = evaluation_io.resolve_num(num, cfg, sizes)
    ctx = measures.Context(lpips=lpips, derived=evaluation_io.derived_transform(cfg), run_dir=run_dir, n=n, cfg=cfg,
                           batch_size=batch)
    tallies = [measures.MEASURES[k].tally(ctx) for k in JOINT_MEASURES]
    generate = evaluation_io.pair_generator([g1, g2])   # inference mode, shared blocks once
    log(f"scoring {n:,} same-z joint pairs (G1(z), G2(z)), z ~ N(0, I) of shape {tuple(latent)}")
    for z in joint_latents(latent, n, batch):
        b = int(z.shape[0])
        ga, gb = (x.numpy() for x in generate(z))
        images = {"gen1": ga, "gen2": gb, "real1": next(it_a).numpy()[:b], "real2": next(it_b).numpy()[:b]}
        batch_ = measures.Batch(images)
        for tally in tallies:
            tally.add(batch_)
    out = {"z": "N(0, I)", "latent_shape": [int(d) for d in latent], "seed": evaluation_io.EVAL_SEED, "pairs": n,
           "pairs_source": source, "source": f"{SOURCES[False]}, as a coupled run's evaluation",
           "real_images_available": list(sizes), "notes": notes}
    for tally in tallies:
        out.update(tally.result(names))
    return out


# ---------------------------------------------------------------------------------------------- metrics.md
def _joint_markdown(r: dict) -> list:
    """The joint section as a coupled run's metrics.md renders it (metrics/markdown.py), one heading level down."""
    from metrics.measures import MEASURES
    j = {**r["joint"], "domains": r["domains"]}
    lines = ["## Same-z joint samples (G1(z), G2(z)): the coupled GANs' table", "",
             f"z ~ {j['z']} of shape {tuple(j['latent_shape'])} from the fixed seed {j['seed']}, inference mode; "
             f"N = {j['pairs']:,} pairs ({j['pairs_source']}), {j['source']}. Same keys and images as a CoGAN/SCoGAN "
             f"run's evaluation: its *Gen. vs Gen.* row compares with theirs.", ""]
    lines += [f"- {note}" for note in j["notes"]] + ([""] if j["notes"] else [])
    for k in JOINT_MEASURES:
        lines += ["#" + line if line.startswith("## ") else line for line in MEASURES[k].render(j)]
    return lines


def _arrow(d, names) -> str:
    i, j = int(d[0]), int(d[-1])
    return f"{names[i - 1]} -> {names[j - 1]}"


def render_markdown(r: dict) -> str:
    """A translation run's metrics.json -> metrics.md."""
    d1, d2 = names = r["domains"]
    lp = r["lpips"]
    lines = [f"# Evaluation of `{r['run_dir']}` (step {r['step']})", "",
             f"{r['gan_type']} on {r['data']} ({r['image_size']}x{r['image_size']}): domain 1 = {d1}, domain 2 = "
             f"{d2}; translations {', '.join(_arrow(d, names) for d in r['directions'])} in inference mode. "
             f"N = {r['pairs']:,} ({r['pairs_source']}) {r['source']}, fixed order.", ""]
    lines += [f"- {note}" for note in r["notes"]] + ([""] if r["notes"] else [])
    lines += [f"## LPIPS ({lp['net']}, v{lp['version']})", "", "Mean over the pairs ± standard error; lower = more "
              "alike.", "", "| compared | LPIPS | pairs |", "|---|---|---|"]
    lines += [f"| {row['label']} | {pm(row)} | {row['n']:,} |" for row in lp["rows"].values()]
    lines += ["", f"*Real {d1} vs Real {d2}* pairs unrelated real images of the two domains (the baseline). "
              f"*Translated vs ground truth* compares a translation with its input's own pair, and the ceiling row "
              f"is what *Real {d1} vs Translated {d2}* reads for a perfect translator. A coupled run's *Gen. vs Gen.* "
              f"(two generated images of one z) is not the same quantity as *Real vs Translated*.", ""]

    def cycle(c):
        return ([f"Cycle reconstruction: {c['definition']}.", "", "| reconstructed | mean abs. error | images |",
                 "|---|---|---|"] + [f"| {row['label']} | {pm(row)} | {row['n']:,} |" for row in c["rows"].values()]
                + [""])

    def pixel(pa):
        out = [f"Translations against the ground truth, {pa['truth']}, as grayscale intensities in [0, 1]; a pixel "
               f"agrees within {pa['tolerance']}. The unpaired row compares the truth with an unrelated real image "
               f"of the same domain (chance level).", "", "| direction | compared | mean abs. difference | pixels "
               "agreeing |", "|---|---|---|---|"]
        for d, v in pa["directions"].items():
            for who, label in (("translated", "translation vs truth"), ("real_unpaired", "unpaired real vs truth")):
                out.append(f"| {_arrow(d, names)} | {label} | {pm(v[who]['mean_abs_diff'])} | "
                           f"{pm(v[who]['agreement'])} |")
        return out + [""]

    def classes(ca):
        out = [f"Fraction of inputs the evaluation classifier `{ca['classifier']}` puts in the class of their "
               f"translation, against unpaired real images of the target domain (chance level).", "",
               "| direction | compared | agreement |", "|---|---|---|"]
        for d, v in ca["directions"].items():
            out += [f"| {_arrow(d, names)} | input vs translation | {pm(v['translated'])} |",
                    f"| {_arrow(d, names)} | input vs unpaired real | {pm(v['real_unpaired'])} |"]
        return out + [""]

    lines += _skipped("## Cycle reconstruction", r["cycle"], cycle)
    lines += _skipped("## Pixel agreement with the ground truth (derived pairs)", r["pixel_agreement"], pixel)
    lines += _skipped("## Class agreement", r["class_agreement"], classes)
    if "joint" in r:
        lines += _joint_markdown(r)
    lines += [f"Computed in {r['seconds']} s, batch {r['batch_size']}.", ""]
    return "\n".join(lines)
