"""Several evaluated runs side by side, laid out like thesis Table 5.2 (one column per configuration).

    python main.py --report RUN [RUN ...] [--out FILE] [--overwrite]

Reads each run's metrics.json (written by `python main.py --evaluate RUN` or at the end of training) and its
config.json, and writes one Markdown table: a row per measure, a column per run (its folder name, plus the
experiment name when the run was started with `--experiment NAME`):
    the LPIPS rows (mean over N pairs ± standard error), the Real d1 vs Real d2 baseline, the cross cells
    Gen. d1 vs Real d2 / Gen. d2 vs Real d1 (Tables 3.3-3.8) when present, pixel agreement, class agreement,
    Fréchet distances, mode coverage (toy ring), the training step, the pair count, and a link to the run's
    latest sample grid.
Translation runs (pix2pix, CycleGAN, UNIT; translation_eval.py) sit in the same table: their rows (Real vs
Translated, Translated vs Real and vs ground truth, cycle error, per-direction pixel and class agreement) beside the
coupled runs', a line under the table says which rows mean the same for both kinds (COMPARABLE), and pair counts
are checked within each kind only, the ground-truth ceiling's across kinds. A UNIT run's same-z pairs (its
metrics.json's "joint" section) fill the coupled runs' Gen. rows and same-z pixel agreement, their count checked
with the coupled runs' and shown beside its translation count (the CSV: a row of its own, pairs.same_z). Every
translation run is shown in its data's own domain order, A then B (orient): one evaluated the other way round
(pix2pix --direction BtoA) is re-keyed, with a note, whatever order the runs are given in.
Beside a run of a named experiment whose thesis numbers are known (experiments.get(NAME).published), a column
holds the numbers the thesis published, with their table and column in the header. When the run differs from the
setting of those numbers (LPIPS net/version, pair count, an early step, an overridden option: `departures`), its
LPIPS cells beside them carry a mark [n] and note [n] says how.

Runs whose options differ only in --seed (evaluated at the same step) form one column: mean ± standard deviation
over the seeds (seed_groups, seed_cells); the CSV keeps every seeded run's own values.

Without --out the Markdown goes to stdout; with --out FILE it goes to FILE, and FILE's stem + .csv gets one
row per (column, measure). Runs scored with different LPIPS nets or pair counts are refused: their numbers
are not comparable. This module only reads JSON: it must not import TensorFlow.
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import os
import re
import sys
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Optional

import numpy as np

import config
import run_folder
from config import ConfigError

# The LPIPS rows in table order: evaluation.LPIPS_ROWS (the baseline last of them), then the cross cells.
# (evaluation.py imports TensorFlow only inside its functions, so reading its constants is cheap.)
from evaluation import CROSS_ROWS, LPIPS_ROWS  # noqa: E402
import translation_eval  # noqa: E402  (its row keys and labels; TensorFlow only inside its functions)
from data_sources import specs  # noqa: E402  (domain names; pure Python)

DASH = "—"
SAMPLE_RE = re.compile(r"step_(\d+)\.png$")


@dataclass
class Cell:
    """One table cell: a mean (± se over n), or a count, or text."""
    mean: Optional[float] = None
    se: Optional[float] = None
    n: Optional[int] = None
    text: str = DASH


@dataclass
class Column:
    header: str
    run_dir: str
    experiment: str = ""
    source: str = "measured"          # "measured", or where the thesis's numbers come from
    cells: dict = field(default_factory=dict)   # measure key -> Cell


@dataclass
class Run:
    path: Path
    config: dict
    metrics: dict
    header: str = ""
    experiment: Optional[str] = None
    samples: Optional[Path] = None
    notes: list = field(default_factory=list)   # said under the table (orient)


# ---------------------------------------------------------------------------------------------- reading runs

def _read_json(path: Path, what: str) -> dict:
    try:
        d = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: cannot read {what} ({' '.join(str(e).split())})") from None
    if not isinstance(d, dict):
        raise ConfigError(f"{path}: {what} must hold a JSON object")
    return d


# ---------------------------------------------------------------------------------------------- what a file must hold
# The types of what --report reads from metrics.json and config.json (issue 22, item 3): a file of the wrong shape
# is one line naming the key, not a traceback. A tuple of types: the value's type (bool is not a number); a dict:
# an object whose listed keys, where present, match; Each / ListOf: every value of an object / a list.
NULL = type(None)
NUM = (int, float)


@dataclass(frozen=True)
class Each:
    schema: object


@dataclass(frozen=True)
class ListOf:
    schema: object


_STAT = {"mean": NUM + (NULL,), "se": NUM + (NULL,), "n": (int, NULL)}
_PIXEL = {"agreement": _STAT, "mean_abs_diff": _STAT}
METRICS_SCHEMA = {
    "step": (int, NULL), "pairs": (int, NULL), "samples": (int, NULL), "domains": ListOf((str,)),
    "lpips": {"net": (str, NULL), "version": (str,) + NUM, "rows": Each(_STAT)},
    "pixel_agreement": {"skipped": (str,), "generated": _PIXEL, "real_unpaired": _PIXEL},
    "class_agreement": {"skipped": (str,), "generated": _STAT, "real_unpaired": _STAT},
    "frechet": {"skipped": (str,), "name": (str,), "domain1": NUM + (NULL,), "domain2": NUM + (NULL,)},
    "modes": {"covered": (int,), "modes": (int,), "high_quality": NUM, "n": (int, NULL), "definition": (str,)},
    # translation runs (translation_eval.py) and the coupled runs' ceiling
    "kind": (str,), "directions": ListOf((str,)),
    "cycle": {"skipped": (str,), "rows": Each(_STAT)},
    "ground_truth_ceiling": {"skipped": (str,), "mean": NUM + (NULL,), "se": NUM + (NULL,), "n": (int, NULL)},
}
# Translation runs' pixel and class agreement: per direction (translation_eval._sections).
METRICS_SCHEMA["pixel_agreement"]["directions"] = Each({"translated": _PIXEL, "real_unpaired": _PIXEL})
METRICS_SCHEMA["class_agreement"]["directions"] = Each({"translated": _STAT, "real_unpaired": _STAT})
# A translation run's same-z joint samples (UNIT; translation_eval.joint_section): the coupled sections' shapes.
METRICS_SCHEMA["joint"] = {"pairs": (int, NULL), "lpips": METRICS_SCHEMA["lpips"],
                           "pixel_agreement": {k: METRICS_SCHEMA["pixel_agreement"][k]
                                               for k in ("skipped", "generated", "real_unpaired")}}
# Keys a section cannot do without (the others default to an empty cell).
METRICS_REQUIRED = {"modes": ("covered", "modes", "high_quality", "definition")}
CONFIG_SCHEMA = {"gan_type": (str, NULL), "experiment": (str, NULL), "iterations": (int, NULL),
                 "seed": (int, NULL),
                 # the run's data, whose domain order orient reads (data_order)
                 **{k: (str, NULL) for k in ("cogan_data", "paired_dir", "domain_a", "domain_b", "direction")}}
_TYPE_NAMES = {int: "an integer", float: "a number", str: "a string", NULL: "null", dict: "an object",
               list: "a list"}


def _expected(schema) -> str:
    if isinstance(schema, dict) or isinstance(schema, Each):
        return "an object"
    if isinstance(schema, ListOf):
        return "a list"
    names = list(dict.fromkeys("a number" if t is float else _TYPE_NAMES[t] for t in schema))
    if "a number" in names and "an integer" in names:
        names.remove("an integer")
    return " or ".join(names)


def _matches(value, schema) -> bool:
    if isinstance(schema, (dict, Each)):
        return isinstance(value, dict)
    if isinstance(schema, ListOf):
        return isinstance(value, list)
    return not isinstance(value, bool) and isinstance(value, schema)


def schema_error(value, schema, where=""):
    """The first place where `value` does not match `schema`, as '"a.b" must be X (got Y)'; None if it matches."""
    if not _matches(value, schema):
        return f'"{where}" must be {_expected(schema)} (got {json.dumps(value)[:60]})'
    inner = (value.items() if isinstance(schema, Each) else enumerate(value) if isinstance(schema, ListOf)
             else ((k, value[k]) for k in schema if k in value) if isinstance(schema, dict) else ())
    for key, item in inner:
        sub = schema.schema if isinstance(schema, (Each, ListOf)) else schema[key]
        error = schema_error(item, sub, f"{where}[{key}]" if isinstance(key, int) else
                             f"{where}.{key}" if where else str(key))
        if error:
            return error
    return None


def _check_schema(path: Path, d: dict, schema: dict, required=None) -> dict:
    error = schema_error(d, schema)
    for section, keys in (required or {}).items():
        missing = [k for k in keys if isinstance(d.get(section), dict) and k not in d[section]]
        error = error or (f'"{section}.{missing[0]}" is missing' if missing else None)
    if error:
        raise ConfigError(f"{path}: {error}")
    return d


def latest_samples(run_dir: Path) -> Optional[Path]:
    """RUN/samples/step_*.png with the highest step, or None."""
    best = None
    for p in (run_dir / "samples").glob("step_*.png"):
        m = SAMPLE_RE.search(p.name)
        if m and (best is None or int(m.group(1)) > best[0]):
            best = (int(m.group(1)), p)
    return best[1] if best else None


def load_run(path) -> Run:
    """A run folder with config.json and an evaluation in metrics.json; ConfigError (one line) otherwise."""
    run_dir = Path(path)
    if not run_dir.is_dir():
        raise ConfigError(f"{path}: no such run folder")
    if not (run_dir / "config.json").is_file():
        raise ConfigError(f"{path} holds no run (config.json missing)")
    cfg = _check_schema(run_dir / "config.json", _read_json(run_dir / "config.json", "the run's configuration"),
                        CONFIG_SCHEMA)
    if cfg.get("gan_type") == "classifier":
        raise ConfigError(f"{path} is a classifier run: --report compares evaluated GAN runs")
    evaluate = f"run python main.py --evaluate {path}"
    if not (run_dir / "metrics.json").is_file():
        raise ConfigError(f"{path} has no evaluation: {evaluate}")
    metrics = _check_schema(run_dir / "metrics.json", _read_json(run_dir / "metrics.json", "the evaluation"),
                            METRICS_SCHEMA, METRICS_REQUIRED)
    if "lpips" not in metrics and "modes" not in metrics:
        raise ConfigError(f"{path}/metrics.json holds no LPIPS table or mode coverage: {evaluate}")
    experiment = cfg.get("experiment") or None
    return Run(run_dir, cfg, metrics, experiment=experiment, samples=latest_samples(run_dir))


def is_translation(metrics) -> bool:
    """Whether a metrics.json is a translation run's (translation_eval.py), not a coupled or toy run's."""
    return metrics.get("kind") == translation_eval.KIND


def ceiling_pairs(m):
    """The pair count of a run's ground-truth ceiling (a coupled run's ground_truth_ceiling, a translation run's
    ceiling row), or None: the one row both kinds share, so its count is compared across kinds (review A4)."""
    row = (((m.get("lpips") or {}).get("rows") or {}).get(translation_eval.CEILING[0]) if is_translation(m)
           else m.get("ground_truth_ceiling"))
    return (row or {}).get("n") if (row or {}).get("mean") is not None else None


def check_comparable(runs) -> None:
    """Refuse runs whose numbers are not comparable: other LPIPS nets, other pair or sample counts. Pair counts
    are compared within each kind (coupled, translation): a translation run is scored on its held-out pairs, a
    coupled one on the thesis's count, and the rows the two kinds share are said apart (render). The ground-truth
    ceiling is one quantity for both kinds: its pair count is compared across all runs that have one."""
    pairs = (lambda kind: lambda m: m.get("pairs") if "lpips" in m and is_translation(m) == kind else None)
    # a translation run's same-z pairs (UNIT) fill the coupled runs' rows: their count is checked with theirs
    coupled_pairs = (lambda m: pairs(False)(m) if not is_translation(m) else (m.get("joint") or {}).get("pairs"))
    checks = (("LPIPS nets", lambda m: m["lpips"].get("net") if "lpips" in m else None,
               "re-evaluate them with the same --net"),
              ("pair counts", coupled_pairs, "re-evaluate them with the same --num"),
              ("pair counts of translation runs", pairs(True), "re-evaluate them with the same --num"),
              ("ground-truth ceiling pair counts", ceiling_pairs,
               "re-evaluate them with the same --num (a coupled run's ceiling takes min(N, held-out size) pairs)"),
              ("sample counts", lambda m: m.get("samples") if "modes" in m else None,
               "re-evaluate them with the same --num"))
    for what, get, fix in checks:
        seen = [(r.header, get(r.metrics)) for r in runs if get(r.metrics) is not None]
        if len({v for _, v in seen}) > 1:
            listed = ", ".join(f"{h} ({v:,})" if isinstance(v, int) else f"{h} ({v})" for h, v in seen)
            raise ConfigError(f"runs evaluated with different {what}: {listed}; {fix}")


# ---------------------------------------------------------------------------------------------- domain order
# Rows of two real images, the same quantity either way round (LPIPS is symmetric): their keys stay when the
# domains swap.
_SYMMETRIC_ROWS = {translation_eval.BASELINE[0], translation_eval.CEILING[0]}
# The per-direction sections of a translation run's metrics.json, keyed by direction or row (translation_eval).
_DIRECTED = (("lpips", "rows"), ("cycle", "rows"), ("pixel_agreement", "directions"),
             ("class_agreement", "directions"))


def _swap12(key: str) -> str:
    """A translation key with domains 1 and 2 exchanged: real1_vs_trans2 -> real2_vs_trans1, 1_to_2 -> 2_to_1."""
    return key if key in _SYMMETRIC_ROWS else key.translate(str.maketrans("12", "21"))


def swapped_domains(m: dict) -> dict:
    """A translation run's metrics.json with domain 1 and domain 2 exchanged (a pix2pix --direction BtoA run read
    in the AtoB order): every per-direction key re-keyed, the domains and directions reversed."""
    out = {**m, "domains": list(m["domains"])[::-1],
           "directions": [_swap12(d) for d in m.get("directions") or ()]}
    for section, inner in _DIRECTED:
        sec = m.get(section)
        if isinstance(sec, dict) and isinstance(sec.get(inner), dict):
            out[section] = {**sec, inner: {_swap12(k): v for k, v in sec[inner].items()}}
    return out


def data_order(r: Run) -> list:
    """The two domains in the order of the run's data itself, A then B, as load_pair / load_paired define them
    (review 11 M2): a paired folder's sides A, B, else specs.domain_names of its data (translation_eval.domain_names
    with --direction AtoB). A config that names no data (none of the keys): the run's evaluated order, reversed for
    a --direction BtoA run (the only thing that reverses it)."""
    cfg = r.config
    if any(k in cfg for k in ("cogan_data", "paired_dir", "domain_a")):
        return (["A", "B"] if cfg.get("paired_dir") else
                list(specs.domain_names(cfg.get("cogan_data"), cfg.get("domain_a"), cfg.get("domain_b"))))
    got = list(r.metrics.get("domains") or ())
    return got[::-1] if cfg.get("direction") == "BtoA" else got


def orient(runs) -> None:
    """Review A6 / review 11 M2: put every translation run in its data's own domain order (data_order), so that a
    row means one direction in every column whatever order the runs are given in; a run evaluated in the reverse
    order (pix2pix --direction BtoA) is re-keyed (swapped_domains) and a note says so, naming --direction only for
    a run that has one. Coupled runs are evaluated in that order already. A reversed run with same-z pairs (whose
    pixel agreement has a direction) cannot be re-keyed: refused."""
    for r in runs:
        got = list(r.metrics.get("domains") or ())
        if not is_translation(r.metrics) or len(got) != 2:
            continue
        order = data_order(r)
        if got == order or got != order[::-1]:   # in the data's order, or names the data no longer gives: as is
            continue
        if "joint" in r.metrics:
            raise ConfigError(f"{r.path}: its domains ({' -> '.join(got)}) are in the reverse of its data's order, "
                              f"and its same-z rows cannot be re-keyed: re-evaluate it (python main.py --evaluate "
                              f"{r.path})")
        r.metrics = swapped_domains(r.metrics)
        why = (f"--direction {r.config['direction']}" if r.config.get("direction") else
               "the order of its metrics.json")
        r.notes.append(f"{r.header or r.path}: evaluated with domain 1 = {order[1]} ({why}); its rows are shown in "
                       f"its data's order, domain 1 = {order[0]} (its {order[1]} -> {order[0]} translation in the "
                       f"rows of G_21).")


def _headers(runs) -> None:
    names = [r.path.name or str(r.path) for r in runs]
    clash = len(set(names)) < len(names)
    for r, name in zip(runs, names):
        base = str(r.path) if clash else name
        r.header = f"{base} ({r.experiment})" if r.experiment else base


# ---------------------------------------------------------------------------------------------- rows

def _stat(s) -> Cell:
    if not isinstance(s, dict) or s.get("mean") is None:
        return Cell()
    se = s.get("se")
    text = f"{s['mean']:.4f} ± {se:.4f}" if se is not None else f"{s['mean']:.4f}"
    return Cell(float(s["mean"]), None if se is None else float(se), s.get("n"), text)


def _number(v, digits) -> Cell:
    return Cell(float(v), text=f"{v:.{digits}f}") if v is not None else Cell()


def _count(v) -> Cell:
    return Cell(int(v), text=f"{int(v):,}") if v is not None else Cell()


def _pairs_cell(m) -> Cell:
    """The "LPIPS pairs" cell; a translation run with same-z pairs (UNIT) scores its Gen. rows on the coupled
    runs' count and its translation rows on its own: both shown (review A3)."""
    joint = (m.get("joint") or {}).get("pairs") if is_translation(m) else None
    if joint is None or m.get("pairs") is None:
        return _count(m.get("pairs"))
    return Cell(int(m["pairs"]), text=f"{int(m['pairs']):,} (translations) / {int(joint):,} (same z)")


def row_labels(runs) -> dict:
    """measure key -> label, in table order, for every measure a column may have. Labels name the domains when
    every LPIPS run has the same two (as Table 5.2), else Domain1 / Domain2 (as Table 5.4)."""
    domains = {tuple(r.metrics.get("domains") or ()) for r in runs if "lpips" in r.metrics}
    d1, d2 = next(iter(domains)) if len(domains) == 1 and len(next(iter(domains))) == 2 else ("Domain1", "Domain2")
    labels = {f"lpips.{key}": "LPIPS " + label for key, label in LPIPS_ROWS + CROSS_ROWS}
    labels.update({f"lpips.{key}": "LPIPS " + label for key, label in translation_eval.ROWS})
    labels.update({
        "pixel.generated.agreement": "Pixel agreement: transform(Gen. {d1}) vs Gen. {d2} (same z)",
        "pixel.real.agreement": "Pixel agreement: transform(Real {d1}) vs Real {d2} (unpaired, chance level)",
        "pixel.generated.mad": "Mean abs. pixel difference: transform(Gen. {d1}) vs Gen. {d2} (same z)",
        "pixel.real.mad": "Mean abs. pixel difference: transform(Real {d1}) vs Real {d2} (unpaired)",
        "class.generated": "Class agreement: Gen. {d1} vs Gen. {d2} (same z)",
        "class.real": "Class agreement: Real {d1} vs Real {d2} (unpaired, chance level)",
    })
    labels.update(translation_labels())
    for r in runs:
        name = (r.metrics.get("frechet") or {}).get("name")
        if name:
            labels.setdefault(f"frechet.{name}.domain1", f"{name}: Gen. {{d1}} vs Real {{d1}}")
            labels.setdefault(f"frechet.{name}.domain2", f"{name}: Gen. {{d2}} vs Real {{d2}}")
    labels.update({"modes.covered": "Modes covered (toy ring)",
                   "modes.high_quality": "High-quality points (toy ring)",
                   "step": "Training step", "pairs": "LPIPS pairs", "pairs.same_z": "LPIPS pairs (same z)",
                   "samples": "Evaluation samples (toy ring)",
                   "grid": "Latest samples"})
    return {k: v.format(d1=d1, d2=d2) for k, v in labels.items()}


# A translation run's measures beyond LPIPS, per direction i -> j (translation_eval.py): report key -> label.
def translation_labels() -> dict:
    ways = ((1, 2), (2, 1))
    out = {f"cycle.{i}_{j}_{i}": f"Cycle error: mean abs. G_{j}{i}(G_{i}{j}(x)) - x, x real {{d{i}}}" for i, j in ways}
    for i, j in ways:
        d = f"{i}_to_{j}"
        out.update({
            f"pixel.{d}.translated.agreement": f"Pixel agreement: G_{i}{j}(x) vs ground truth in {{d{j}}} (paired)",
            f"pixel.{d}.real.agreement": f"Pixel agreement: unpaired Real {{d{j}}} vs ground truth (chance level)",
            f"pixel.{d}.translated.mad": f"Mean abs. pixel difference: G_{i}{j}(x) vs ground truth in {{d{j}}}",
            f"pixel.{d}.real.mad": f"Mean abs. pixel difference: unpaired Real {{d{j}}} vs ground truth"})
    for i, j in ways:
        d = f"{i}_to_{j}"
        out.update({f"class.{d}.translated": f"Class agreement: Real {{d{i}}} x vs G_{i}{j}(x)",
                    f"class.{d}.real": f"Class agreement: Real {{d{i}}} vs unpaired Real {{d{j}}} (chance level)"})
    return out


def _translation_cells(m) -> dict:
    cells = {}
    for key, row in ((m.get("cycle") or {}).get("rows") or {}).items():
        cells[f"cycle.{key}"] = _stat(row)
    for d, v in ((m.get("pixel_agreement") or {}).get("directions") or {}).items():
        for who, src in (("translated", "translated"), ("real", "real_unpaired")):
            cells[f"pixel.{d}.{who}.agreement"] = _stat((v.get(src) or {}).get("agreement"))
            cells[f"pixel.{d}.{who}.mad"] = _stat((v.get(src) or {}).get("mean_abs_diff"))
    for d, v in ((m.get("class_agreement") or {}).get("directions") or {}).items():
        cells[f"class.{d}.translated"] = _stat(v.get("translated"))
        cells[f"class.{d}.real"] = _stat(v.get("real_unpaired"))
    return cells


def _pixel_cells(pa) -> dict:
    """A coupled pixel_agreement section's cells (same-z pairs and the unpaired chance level)."""
    cells = {}
    if "skipped" not in pa and pa:
        for who, src in (("generated", "generated"), ("real", "real_unpaired")):
            cells[f"pixel.{who}.agreement"] = _stat((pa.get(src) or {}).get("agreement"))
            cells[f"pixel.{who}.mad"] = _stat((pa.get(src) or {}).get("mean_abs_diff"))
    return cells


def _joint_cells(joint) -> dict:
    """A translation run's same-z pairs (UNIT) in the coupled runs' rows: their Gen. LPIPS rows (the Real vs Real
    row stays the translation table's) and same-z pixel agreement."""
    cells = {f"lpips.{key}": _stat(row) for key, row in ((joint.get("lpips") or {}).get("rows") or {}).items()
             if key.startswith("gen")}
    return {**cells, **_pixel_cells(joint.get("pixel_agreement") or {})}


def run_cells(r: Run, link_base: Path) -> dict:
    m = r.metrics
    cells = {}
    if "lpips" in m:
        for key, row in (m["lpips"].get("rows") or {}).items():
            cells[f"lpips.{key}"] = _stat(row)
    if is_translation(m) and isinstance(m.get("joint"), dict):
        cells.update(_joint_cells(m["joint"]))
    ceiling = m.get("ground_truth_ceiling") or {}
    if "mean" in ceiling:   # a coupled run's: the translation tables' ceiling row, on the same held-out pairs
        cells[f"lpips.{translation_eval.CEILING[0]}"] = _stat(ceiling)
    if is_translation(m):
        cells.update(_translation_cells(m))
    if not is_translation(m):
        cells.update(_pixel_cells(m.get("pixel_agreement") or {}))
    ca = m.get("class_agreement") or {}
    if "skipped" not in ca and ca and not is_translation(m):
        cells["class.generated"] = _stat(ca.get("generated"))
        cells["class.real"] = _stat(ca.get("real_unpaired"))
    fr = m.get("frechet") or {}
    if "name" in fr:
        for d in ("domain1", "domain2"):
            cells[f"frechet.{fr['name']}.{d}"] = _number(fr.get(d), 3)
    if "modes" in m:
        mo = m["modes"]
        cells["modes.covered"] = Cell(int(mo["covered"]), n=mo.get("n"), text=f"{mo['covered']} / {mo['modes']}")
        cells["modes.high_quality"] = Cell(float(mo["high_quality"]), n=mo.get("n"),
                                           text=f"{mo['high_quality']:.4f}")
        cells["samples"] = _count(m.get("samples"))
    cells["step"] = _count(m.get("step"))
    if "lpips" in m:
        cells["pairs"] = _pairs_cell(m)
        if is_translation(m) and (m.get("joint") or {}).get("pairs") is not None:   # CSV only (_CSV_ONLY)
            cells["pairs.same_z"] = _count(m["joint"]["pairs"])
    if r.samples is not None:
        rel = Path(os.path.relpath(r.samples.resolve(), link_base.resolve())).as_posix()
        cells["grid"] = Cell(text=f"[{r.samples.name}]({rel})")
    return cells


# The thesis's LPIPS: "the official implementation with all default settings" (line 659 and its footnote), i.e.
# lpips.LPIPS(net='alex', version='0.1').
THESIS_LPIPS = ("alexnet", "0.1")
# Option groups whose values can change what a run learns; in them, options that cannot.
_SETTING_GROUPS = (config.DATA, config.NETS, config.LOSSES, config.COUPLING, config.OPTIMISERS, config.SCHEDULE)
_NOT_SETTINGS = {"download", "data_dir", "log_weight_difference", "classifier_path", "classifier_steps", "seed",
                 "deterministic", "nonfinite"}


# Options a translation model leaves unset (config refuses them for it): no reference value to differ from.
_UNSET_BY_GAN_TYPE = {"pix2pix": config.NOT_PIX2PIX, "cyclegan": config.NOT_CYCLEGAN, "unit": config.NOT_UNIT}


def experiment_reference(e) -> dict:
    """Option -> the value a run of experiment `e` has unless an option overrode it: e's settings over the data's
    thesis settings over e's preset over config.resolve's fixed fallbacks over every option's fixed default.
    (Derived values such as arch from the image size are left out: deriving them imports TensorFlow; the test
    checks this against config.parse_config for every experiment.)"""
    groups = {f.name: f.metadata.get("group") for f in fields(config.Config)}
    ref = {f.name: f.default for f in fields(config.Config) if groups[f.name] in _SETTING_GROUPS
           and f.default is not None and f.name not in _NOT_SETTINGS}
    ref.update(w_init="xavier", noise_type="uniform", noise_dim=config.DEFAULT_NOISE_DIM, g_width=1.0,
               batch_size=config.DEFAULT_BATCH_SIZE, iterations=config.DEFAULT_ITERATIONS)
    s = {k: v for k, v in e.settings.items()   # not outputs such as sample_interval, nor eval_pairs (pair count)
         if k not in _NOT_SETTINGS and groups.get(k) in _SETTING_GROUPS + (config.WHAT,)}
    data = config.data_settings(argparse.Namespace(gan_type=s.get("gan_type"), cogan_data=s.get("cogan_data")))
    preset = config.PRESETS.get(s.get("preset") or data.get("preset"), {})
    for layer in (preset, data, s):
        ref.update(layer)
    if "d_norm" not in s and "d_norm" not in preset:
        ref["d_norm"] = "layer" if ref.get("disc_penalty") == "wgan-gp" else "batch"
    for key in _UNSET_BY_GAN_TYPE.get(s.get("gan_type"), ()):   # the translation models' nets have no such option
        ref.pop(key, None)
    return ref


def departures(r: Run, e) -> list:
    """How run r differs from the setting e's published numbers were measured under: LPIPS net and version, pair
    count, a run evaluated before its last step, and every option whose value differs from experiment_reference."""
    out = []
    lp = r.metrics.get("lpips") or {}
    net = (lp.get("net"), str(lp.get("version", "0.1")))
    if net != THESIS_LPIPS:
        out.append(f"LPIPS {net[0]} v{net[1]} (thesis: {THESIS_LPIPS[0]} v{THESIS_LPIPS[1]})")
    pairs = r.metrics.get("pairs")
    if e.pairs is not None and pairs is not None and int(pairs) != int(e.pairs):
        out.append(f"{int(pairs):,} pairs (thesis: {int(e.pairs):,})")
    step, iterations = r.metrics.get("step"), r.config.get("iterations")
    if step is not None and iterations is not None and int(step) < int(iterations):
        out.append(f"evaluated at step {int(step):,} of its {int(iterations):,}")
    for key, want in experiment_reference(e).items():
        if key in r.config and r.config[key] != want:   # a key older runs lack is not known to differ
            out.append(f"{key} {json.dumps(r.config[key])} (experiment: {json.dumps(want)})")
    return out


def thesis_column(r: Run, notes: list) -> Optional[Column]:
    """The thesis's published numbers for the run's experiment, or None (and a note saying why not)."""
    if not r.experiment:
        return None
    import experiments

    try:
        e = experiments.get(r.experiment)
    except ValueError:
        notes.append(f"{r.header}: experiment `{r.experiment}` is not in experiments.py: no thesis column.")
        return None
    if not e.published and e.published_modes is None:
        notes.append(f"{r.header}: the thesis publishes no LPIPS numbers for `{e.name}`.")
        return None
    source = e.source or e.reproduces or "the thesis"
    short = re.split(r" \(|;", source)[0].strip() or source
    col = Column(f"thesis: {short}", str(r.path), r.experiment, f"thesis: {source}")
    notes.append(f"thesis: {short} (beside {r.header}): {source}"
                 + (f", measured on {int(e.pairs):,} pairs" if e.pairs is not None else "") + ".")
    for key, value in (e.published or {}).items():
        col.cells[f"lpips.{key}"] = Cell(float(value), text=f"{float(value):.4f}")
    if e.published_modes is not None:   # the toy ring's 10 modes (sec. 2.3.2)
        col.cells["modes.covered"] = Cell(int(e.published_modes), text=f"{int(e.published_modes)} / 10")
    if e.pairs is not None:
        col.cells["pairs"] = _count(e.pairs)
    return col


def _setting_key(r: Run) -> str:
    """What a run trained and when it was scored, without its seed: runs sharing it are seeds of one
    configuration (its options that change what is learned, the precision, the evaluated step)."""
    groups = {f.name: f.metadata.get("group") for f in fields(config.Config)}
    kept = {k: v for k, v in r.config.items() if k == "mixed_precision"
            or (groups.get(k) in _SETTING_GROUPS + (config.WHAT,) and k not in _NOT_SETTINGS)}
    return json.dumps([kept, r.metrics.get("step")], sort_keys=True, default=str)


def seed_groups(runs) -> list:
    """[[Run]]: the runs grouped by _setting_key, in the order of their first run; a group of several is one
    configuration trained with several seeds."""
    groups = {}
    for r in runs:
        groups.setdefault(_setting_key(r), []).append(r)
    return list(groups.values())


def _seeds(group) -> str:
    return ", ".join(str(r.config.get("seed", "?")) for r in group)


# Cells that are the same for every seed of a group (or links), never averaged.
_SHARED_CELLS = {"step", "pairs", "pairs.same_z", "samples", "grid"}
# Rows of the CSV only: a UNIT run's same-z pair count as a number of its own (review 11 L6); the Markdown shows it
# in the "LPIPS pairs" cell beside the translation count (_pairs_cell).
_CSV_ONLY = {"pairs.same_z"}


def seed_cells(cells_per_run) -> dict:
    """The cells of one configuration over its seeds: each measure as mean ± standard deviation (ddof 1) of the
    runs' values (each run's own mean over its pairs), n = the seeds; step, pair and sample counts as one run's
    when they agree; the first run's sample link."""
    out = {}
    keys = list(dict.fromkeys(k for cells in cells_per_run for k in cells))
    for key in keys:
        got = [c[key] for c in cells_per_run if key in c]
        values = [c.mean for c in got if c.mean is not None]
        if key in _SHARED_CELLS or len(values) != len(cells_per_run) or len(values) < 2:
            texts = list(dict.fromkeys(c.text for c in got))
            out[key] = got[0] if len(texts) == 1 or key == "grid" else Cell(text=" / ".join(texts))
            continue
        m, sd = float(np.mean(values)), float(np.std(values, ddof=1))
        if key == "modes.covered":
            text = f"{m:.1f} ± {sd:.1f} / {got[0].text.split(' / ')[-1]}"
        else:
            text = f"{m:.4f} ± {sd:.4f}"
        out[key] = Cell(m, sd, len(values), text)
    return out


def build(runs, link_base: Path):
    """-> (row labels {key: label}, columns, notes, per-run columns of the seed groups (for the CSV))."""
    notes, columns, per_run, marks = [n for r in runs for n in r.notes], [], [], 0
    for group in seed_groups(runs):
        r = group[0]
        if len(group) == 1:
            measured = Column(r.header, str(r.path), r.experiment or "", "measured", run_cells(r, link_base))
        else:
            header = (r.experiment or r.path.name or str(r.path)) + f" · {len(group)} seeds ({_seeds(group)})"
            cells = [run_cells(x, link_base) for x in group]
            measured = Column(header, ", ".join(str(x.path) for x in group), r.experiment or "",
                              "mean ± sd over seeds", seed_cells(cells))
            per_run += [Column(x.header, str(x.path), x.experiment or "", f"seed {x.config.get('seed')} of {header}",
                               c) for x, c in zip(group, cells)]
            seeds = [x.config.get("seed") for x in group]
            if len(set(map(str, seeds))) < len(seeds):
                notes.append(f"{header}: runs with the same seed are averaged as if independent.")
        columns.append(measured)
        thesis = thesis_column(r, notes)
        if thesis is not None:
            columns.append(thesis)
            import experiments
            differs = list(dict.fromkeys(d for x in group for d in departures(x, experiments.get(x.experiment))))
            if differs:   # each measured cell that sits beside a published number gets the footnote's mark
                marks += 1
                for key in thesis.cells:   # the LPIPS numbers, not the pair counts beside them
                    if key.startswith("lpips.") and key in measured.cells and measured.cells[key].text != DASH:
                        measured.cells[key].text += f" [{marks}]"
                notes.append(f"[{marks}] {measured.header} differs from the setting of the thesis's numbers beside "
                             f"it: " + "; ".join(differs) + ".")
    labels = row_labels(runs)
    present = {k for c in columns for k in c.cells}
    labels = {k: v for k, v in labels.items() if k in present}
    return labels, columns, notes, per_run


# ---------------------------------------------------------------------------------------------- writing

def _md(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


# Which rows mean the same for a coupled and a translation run (issue 20 item 5), said under any table with both.
COMPARABLE = (
    "Comparable across model kinds: the Real vs Real baseline (the same quantity; coupled runs draw it from the "
    "training domains, translation runs on derived pairs (or paired folders) from the held-out pairs, on other "
    "data from the same training domains as the coupled runs) and, for derived pairs, the ground-truth ceiling "
    "(Real d1 vs its own transform, on the same held-out pairs for both kinds, their count checked). Among "
    "translation runs the ground-truth rows (Translated vs ground truth, pixel agreement with it) compare "
    "directly. NOT the same "
    "quantity: a coupled run's Gen. d1 vs Gen. d2 (two generated images of one z) and a translation run's Real d1 "
    "vs Translated d2 (a real input and its translation); nor a coupled run's Gen. vs Real rows and a translation "
    "run's Translated vs Real rows (sampled from z against translated from real inputs). A translation run that "
    "also samples same-z pairs (UNIT) fills the coupled runs' Gen. rows and same-z pixel agreement with the "
    "coupled evaluation's own code, real images and pair count: those compare directly (its pair cell shows both "
    "counts). Pair counts are checked within each kind only (UNIT's same-z pairs with the coupled runs'), the "
    "ceiling's across kinds. Translation runs are shown in their data's domain order, A then B (a --direction BtoA "
    "run re-keyed).")


def render(labels, columns, notes, runs) -> str:
    lines = ["# Evaluation report", "",
             "| measure | " + " | ".join(_md(c.header) for c in columns) + " |",
             "|---|" + "---|" * len(columns)]
    for key, label in ((k, v) for k, v in labels.items() if k not in _CSV_ONLY):
        lines.append(f"| {_md(label)} | " + " | ".join(_md(c.cells.get(key, Cell()).text) for c in columns) + " |")
    lines.append("")
    lp = [r.metrics["lpips"] for r in runs if "lpips" in r.metrics]
    if lp:
        nets = sorted({f"{x.get('net')}, v{x.get('version', '0.1')}" for x in lp})
        lines += [f"LPIPS ({'; '.join(nets)}): mean over the pairs ± standard error, lower = more alike. The Real "
                  f"vs Real row is the baseline: real images of the two domains drawn independently (unpaired); "
                  f"same-z generated pairs of a model that learned the joint distribution lie below it. The "
                  f"cross rows Gen. d1 vs Real d2 and Gen. d2 vs Real d1 are the off-diagonal cells of thesis "
                  f"Tables 3.3-3.8.", ""]
    if any(is_translation(r.metrics) for r in runs):
        lines += [COMPARABLE, ""]
    seeded = [c for c in columns if c.source == "mean ± sd over seeds"]
    single = [c for c in columns if c.source == "measured"]
    if seeded:
        lines += ["A column headed \"N seeds\" is one configuration trained with N seeds (runs whose options differ "
                  "only in --seed, evaluated at the same step): each cell is the mean ± standard deviation over the "
                  "seeds of the runs' values; the CSV holds each run's values.", ""]
    if single:
        lines += [f"{'Every measured column' if not seeded else 'Each other measured column'} is one run, i.e. one "
                  f"seed: its ± is the standard error over the pairs, not a spread over seeds.", ""]
    if any(c.source.startswith("thesis") for c in columns):
        lines += ["Thesis columns hold the numbers the thesis published for the run's experiment (no standard "
                  "errors were published); the header names the table and column.", ""]
    if any(n.startswith("[") for n in notes):
        lines += ["A mark [n] on a measured cell: its run differs from the setting the thesis's number beside it "
                  "was measured under, and note [n] says how: the LPIPS net and version (the thesis: AlexNet, "
                  "v0.1), the pair count, a step before the run's last, or an option whose value is not the "
                  "experiment's (its settings, the data's thesis settings, its preset, the defaults). Compare "
                  "such cells with care.", ""]
    if any("modes" in r.metrics for r in runs):
        d = next(r.metrics["modes"]["definition"] for r in runs if "modes" in r.metrics)
        lines += [f"Mode coverage (toy ring): {d}.", ""]
    lines += [f"- {n}" for n in notes] + ([""] if notes else [])
    return "\n".join(lines)


def write_csv(path: Path, labels, columns) -> None:
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["column", "run_dir", "experiment", "source", "measure", "label", "mean", "se", "n", "text"])
        for c in columns:
            for key, label in labels.items():
                cell = c.cells.get(key)
                if cell is None:
                    continue
                num = (lambda v: "" if v is None or (isinstance(v, float) and math.isnan(v)) else repr(v))
                w.writerow([c.header, c.run_dir, c.experiment, c.source, key, label, num(cell.mean),
                            num(cell.se), "" if cell.n is None else int(cell.n), cell.text])


# ---------------------------------------------------------------------------------------------- entry point

class _Parser(argparse.ArgumentParser):
    def error(self, message):   # one line, exit 2 through main.main
        raise ConfigError(f"{message} (see python main.py --report --help)")


def report_main(argv):
    """`python main.py --report RUN [RUN ...] [--out FILE] [--overwrite]`; bad input raises ConfigError."""
    p = _Parser(prog="main.py --report", description="Compare evaluated runs in one table laid out like thesis "
                "Table 5.2: LPIPS rows ± standard error, baseline, cross cells, pairing measures, step, pairs; "
                "the thesis's numbers beside runs of a named experiment.")
    p.add_argument("--report", nargs="*", metavar="RUN", default=[], help="run folders evaluated with --evaluate")
    p.add_argument("more", nargs="*", help=argparse.SUPPRESS)
    p.add_argument("--out", metavar="FILE", help="write Markdown to FILE and a CSV beside it (FILE stem + .csv); "
                   "default: Markdown to stdout")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out file and its CSV")
    a = p.parse_args(argv)
    paths = list(a.report) + list(a.more)
    if not paths:
        raise ConfigError("--report needs at least one run folder: python main.py --report RUN [RUN ...] "
                          "[--out FILE]")
    out = csv_path = None
    if a.out is not None:
        out = Path(a.out)
        csv_path = out.with_suffix(".csv")
        if out.suffix.lower() == ".csv":
            raise ConfigError(f"--out {out}: give the Markdown file (e.g. report.md); the CSV goes beside it")
        if not out.parent.is_dir():
            raise ConfigError(f"--out {out}: folder {out.parent} does not exist")
        if out.is_dir():
            raise ConfigError(f"--out {out} is a folder: give a file name such as {out / 'report.md'}")
        for target in (out, csv_path):
            if target.exists() and not a.overwrite:
                raise ConfigError(f"{target} exists: pass --overwrite to replace it")
    runs = [load_run(path) for path in paths]
    _headers(runs)
    orient(runs)
    check_comparable(runs)
    labels, columns, notes, per_run = build(runs, out.parent if out is not None else Path.cwd())
    text = render(labels, columns, notes, runs)
    if out is None:
        sys.stdout.write(text)
        return text
    # Both files written atomically: a kill or a full disk leaves no half a report (issue 22, item 6).
    with run_folder.atomic_output(out) as tmp:
        tmp.write_text(text)
    with run_folder.atomic_output(csv_path) as tmp:
        write_csv(tmp, labels, columns + per_run)
    print(f"wrote {out} and {csv_path} ({len(runs)} run{'s' if len(runs) > 1 else ''})")
    return text
