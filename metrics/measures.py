"""The measures `--evaluate` computes on a coupled run, one registry entry each (MEASURES), streamed in batches.

A measure is a class built once per evaluation from the `Context`, fed every `Batch` of generated pairs and
real images (`add`), and asked at the end for its sections of metrics.json (`result`: {key: section}). Its
Markdown lives apart (metrics/markdown.py), named by the entry. A new measure is one entry here, its class,
its renderer and a test; evaluation.evaluate and metrics.md pick it up.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from metrics import markdown

FIGURE_PAIRS = 8
# The LPIPS rows of the thesis's tables (keys in metrics.json), then the cross cells of its 2x2 Tables 3.3-3.8.
LPIPS_ROWS = (("gen1_vs_gen2", "Gen. {d1} vs Gen. {d2} (same z)"),
              ("gen1_vs_real1", "Gen. {d1} vs Real {d1}"),
              ("gen2_vs_real2", "Gen. {d2} vs Real {d2}"),
              ("real1_vs_real2", "Real {d1} vs Real {d2} (unpaired baseline)"))
CROSS_ROWS = (("gen1_vs_real2", "Gen. {d1} vs Real {d2}"),
              ("gen2_vs_real1", "Gen. {d2} vs Real {d1}"))
FCD_NAME = markdown.FCD_NAME
HOW_TO_CLASSIFIER = ("train an evaluation classifier with `python main.py --gan_type classifier ...` (on other "
                     "data or another seed than any semantic-loss teacher) and pass `--eval_classifier "
                     "RUN/classifier.keras`")


@dataclass
class Context:
    """What the measures of one evaluation share: the LPIPS net, the derived transform (or None), the
    evaluation classifier's probe (or None) with its path and metadata, the FID feature extractor (or None)
    with the note why not, whether FID was asked for, the run folder and the number of pairs."""
    lpips: object
    derived: Optional[tuple]
    probe: object = None
    classifier: Optional[Path] = None
    classifier_meta: Optional[dict] = None
    extractor: object = None
    fid: bool = True
    fid_note: Optional[str] = None
    run_dir: Path = Path(".")
    n: int = 0
    cfg: object = None      # the run's Config (GroundTruthCeiling loads its held-out pairs)
    batch_size: int = 256


@dataclass
class Batch:
    """One batch: images {"gen1", "gen2", "real1", "real2"} in [-1, 1]; the probe's (features, logits) of each,
    computed once for every measure that asks."""
    images: dict
    probe: object = None
    _probed: dict = field(default_factory=dict)

    def probed(self, who):
        if who not in self._probed:
            self._probed[who] = self.probe(self.images[who])
        return self._probed[who]


def summary(values) -> dict:
    """{"mean", "se", "n"} of per-pair values (a list of batches or an array)."""
    from metrics.pairing import mean_and_se

    values = np.concatenate(values) if isinstance(values, list) else np.asarray(values)
    mean, se = mean_and_se(values)
    return {"mean": mean, "se": se, "n": int(values.size)}


class LpipsTable:
    """LPIPS per pair for the thesis's rows and cross cells (Tables 3.3-3.8, 5.1-5.4), and the figures of the
    FIGURE_PAIRS generated pairs of lowest and highest LPIPS."""

    def __init__(self, ctx):
        from metrics import pairing
        self.ctx = ctx
        self.dist = {key: [] for key, _ in LPIPS_ROWS + CROSS_ROWS}
        self.extremes = pairing.Extremes(FIGURE_PAIRS)

    def add(self, batch):
        im = batch.images
        for key in self.dist:
            a, _, b = key.split("_")
            self.dist[key].append(np.asarray(self.ctx.lpips(im[a], im[b]), np.float32).reshape(-1))
        self.extremes.update(self.dist["gen1_vs_gen2"][-1], im["gen1"], im["gen2"])

    def result(self, names):
        import run_folder
        d1, d2 = names
        figures = {}
        for which, (scores, a, b) in (("lowest", self.extremes.low), ("highest", self.extremes.high)):
            path = Path(self.ctx.run_dir) / f"lpips_{which}.png"
            run_folder.save_png(path, run_folder.pair_grid([a, b], 1, len(scores)))
            figures[which] = {"file": path.name, "lpips": [float(v) for v in scores]}
        rows = {key: {"label": label.format(d1=d1, d2=d2), **summary(self.dist[key])}
                for key, label in LPIPS_ROWS + CROSS_ROWS}
        return {"lpips": {"net": self.ctx.lpips.net, "version": "0.1", "rows": rows}, "figures": figures}


class PixelAgreement:
    """Derived pairs (edge, negative, rotate; the CoGAN paper's measure): the known transform of G1(z) against
    G2(z), and of a real domain-1 image against an unpaired real domain-2 image (chance level)."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.values = {k: [] for k in ("gen_mad", "gen_agree", "real_mad", "real_agree")}

    def add(self, batch):
        from metrics import pairing
        if not self.ctx.derived:
            return
        im = batch.images
        for who, (x, y) in (("gen", (im["gen1"], im["gen2"])), ("real", (im["real1"], im["real2"]))):
            mad, agree = pairing.pixel_agreement(pairing.transform_images(x, *self.ctx.derived), y)
            self.values[f"{who}_mad"].append(mad)
            self.values[f"{who}_agree"].append(agree)

    def result(self, names):
        from metrics import pairing
        if not self.ctx.derived:
            return {"pixel_agreement": {"skipped": "only for derived pairs (digits/mnist 2 edge|negative|rotate), "
                                                   "whose second domain is a known transform of the first"}}
        v = self.values
        return {"pixel_agreement": {
            "transform": self.ctx.derived[0], "native_size": self.ctx.derived[1],
            "tolerance": pairing.DEFAULT_TOLERANCE,
            "generated": {"mean_abs_diff": summary(v["gen_mad"]), "agreement": summary(v["gen_agree"])},
            "real_unpaired": {"mean_abs_diff": summary(v["real_mad"]), "agreement": summary(v["real_agree"])}}}


class ClassAgreement:
    """The fraction of pairs an independent evaluation classifier puts in the same class (per attribute for
    a multi-label one), generated pairs against unpaired real ones (chance level)."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.values = {"gen": [], "real": []}

    def add(self, batch):
        from metrics import pairing
        if self.ctx.probe is None:
            return
        for who, (a, b) in (("gen", ("gen1", "gen2")), ("real", ("real1", "real2"))):
            self.values[who].append(pairing.class_agreement(batch.probed(a)[1], batch.probed(b)[1],
                                                            self.ctx.probe.multilabel))

    def result(self, names):
        ctx = self.ctx
        if ctx.probe is None:
            return {"class_agreement": {"skipped": f"no evaluation classifier: {HOW_TO_CLASSIFIER}"}}
        return {"class_agreement": {
            "classifier": str(ctx.classifier), "multilabel": ctx.probe.multilabel,
            "names": (ctx.classifier_meta or {}).get("names"),
            "generated": summary(self.values["gen"]), "real_unpaired": summary(self.values["real"])}}


class Frechet:
    """A Fréchet distance per domain: FID on Inception-v3 pool features, or offline FCD on the evaluation
    classifier's penultimate features (streamed mean and covariance, metrics.fid.FeatureStats)."""

    def __init__(self, ctx):
        from metrics import fid as fidlib
        self.ctx = ctx
        self.stats = {k: fidlib.FeatureStats() for k in ("gen1", "real1", "gen2", "real2")}
        self.on = ctx.extractor is not None or (ctx.fid and ctx.probe is not None)

    def add(self, batch):
        if not self.on:
            return
        for who in self.stats:
            features = (self.ctx.extractor(batch.images[who]) if self.ctx.extractor is not None
                        else batch.probed(who)[0])
            self.stats[who].update(features)

    def result(self, names):
        ctx, s = self.ctx, self.stats
        if not self.on:
            if not ctx.fid:
                why = (f"not computed at the end of training (Inception-v3 at 299x299 is slow on CPU; class "
                       f"agreement needs an evaluation classifier): run `python main.py --evaluate {ctx.run_dir}`")
            else:
                why = (f"{ctx.fid_note}, and no evaluation classifier for FCD: put Keras' "
                       f"inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5 in ~/.keras/models, or "
                       f"{HOW_TO_CLASSIFIER}")
            return {"frechet": {"skipped": why}}
        out = {"name": ctx.extractor.name if ctx.extractor is not None else FCD_NAME, "n": ctx.n,
               "domain1": s["gen1"].distance(s["real1"]), "domain2": s["gen2"].distance(s["real2"]),
               "real1_vs_real2": s["real1"].distance(s["real2"])}
        if ctx.fid_note:
            out["note"] = ctx.fid_note
        return {"frechet": out}


class GroundTruthCeiling:
    """LPIPS of Real d1 against transform(Real d1) on the held-out pairs of a derived set (issue 20 item 5): data
    only, what a translation run's ground-truth ceiling row holds on the same pairs (held_out.ceiling_values:
    the first min(N, held-out size) of them), so the one row the coupled and translation tables share exactly
    when both counts agree: its "n" is that count, and --report refuses ceilings of different n (review A4)."""

    def __init__(self, ctx):
        self.ctx = ctx

    def add(self, batch):
        pass   # its images are the held-out pairs, not the generated batches

    def result(self, names):
        from metrics import held_out
        ctx = self.ctx
        if not ctx.derived or ctx.cfg is None:
            return {"ground_truth_ceiling": {"skipped": "only for derived pairs (digits/mnist 2 edge|negative|rotate), "
                                                        "whose second domain is a known transform of the first"}}
        import data
        try:   # the held-out split is other files than the training images: its absence must not cost the table
            values = held_out.ceiling_values(ctx.cfg, ctx.lpips, ctx.n, ctx.batch_size)
        except data.DataError as e:
            return {"ground_truth_ceiling": {"skipped": f"the held-out pairs could not be loaded ({e})"}}
        return {"ground_truth_ceiling": {"label": held_out.CEILING_TRANSFORM.format(d1=names[0]),
                                         "source": "held-out pairs (data.load_paired, split test)", **summary(values)}}


IS_ROWS = (("gen1", "Gen. {d1}"), ("real1", "Real {d1} (reference)"),
           ("gen2", "Gen. {d2}"), ("real2", "Real {d2} (reference)"))


class InceptionScore:
    """The Inception Score per domain (Salimans et al. 2016; issue 20 item 6) of the generated images and, for
    reference, of the real ones, under each classifier of metrics.inception_score.CLASSIFIERS available here,
    labelled by it; streamed per split (SplitScores)."""

    def __init__(self, ctx):
        from metrics import inception_score as isc
        self.sources, self.not_computed = {}, {}
        for key, build in isc.CLASSIFIERS.items():
            source, why = build(ctx)
            if source is None:
                self.not_computed[key] = why
            else:
                self.sources[key] = source
        self.stats = {key: {who: isc.SplitScores(ctx.n) for who, _ in IS_ROWS} for key in self.sources}
        if "evaluation_classifier" in self.not_computed and ctx.probe is None:
            self.not_computed["evaluation_classifier"] += f": {HOW_TO_CLASSIFIER}"

    def add(self, batch):
        for key, source in self.sources.items():
            for who, stats in self.stats[key].items():
                stats.add_logits(source.logits(batch, who))

    def result(self, names):
        from metrics import inception_score as isc
        if not self.sources:
            return {"inception_score": {"skipped": "; ".join(self.not_computed.values())}}
        d1, d2 = names
        scores = {key: {"label": source.label, "classes": source.classes,
                        "rows": {who: {"label": label.format(d1=d1, d2=d2), **self.stats[key][who].result()}
                                 for who, label in IS_ROWS}}
                  for key, source in self.sources.items()}
        return {"inception_score": {"formula": isc.FORMULA, "classifiers": scores,
                                    "not_computed": self.not_computed}}


def _ceiling_section(r):
    from metrics import held_out   # the same section a translation run's table sits beside
    return held_out.ceiling_section(r)


@dataclass(frozen=True)
class Measure:
    """A registry entry: the streaming class and the Markdown renderer of its sections (metrics/markdown.py)."""
    tally: type
    render: Callable


# In the order of metrics.json and metrics.md.
MEASURES = {
    "lpips": Measure(LpipsTable, markdown.lpips_section),
    "pixel_agreement": Measure(PixelAgreement, markdown.pixel_section),
    "class_agreement": Measure(ClassAgreement, markdown.class_section),
    "frechet": Measure(Frechet, markdown.frechet_section),
    "inception_score": Measure(InceptionScore, markdown.inception_section),
    "ground_truth_ceiling": Measure(GroundTruthCeiling, _ceiling_section),
}


def render_markdown(r: dict) -> str:
    """metrics.json -> metrics.md, each measure's sections in registry order."""
    return markdown.render(r, [m.render for m in MEASURES.values()])
