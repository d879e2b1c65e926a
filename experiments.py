"""The thesis's experiments by name: `python main.py --experiment NAME` (any setting overridable by a flag).

Each entry holds the settings of one experiment of Juul-Nyholm & Alminde (2020) as Config field values, the
table or figure it reproduces, and the LPIPS numbers the thesis published for it (facts copied from the
thesis, cited by table and column). `--list_experiments` prints the names. Importing this module must not
import TensorFlow (it is read while parsing the command line).

Published numbers use the row keys of evaluation.LPIPS_ROWS: gen1_vs_gen2, gen1_vs_real1, gen2_vs_real2,
real1_vs_real2 (the baseline the text gives per data set) and, for the 2x2 Tables 3.3-3.8, gen1_vs_real2 and
gen2_vs_real1.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Optional


class ExperimentError(ValueError):
    """Unknown experiment name (the CLI prints one line and exits 2)."""


@dataclass(frozen=True)
class Experiment:
    name: str
    description: str                  # one line for --list_experiments
    reproduces: str                   # "Table 5.1, column SL" / "Fig. 3.8a"
    settings: dict                    # Config field -> value, applied under the command line's options
    published: Optional[dict] = None  # LPIPS row key -> the thesis's number (None: the thesis gives none)
    source: str = ""                  # where `published` comes from, e.g. "Table 5.2, column SLFR"
    notes: str = ""                   # deviations / ambiguities worth a line in EXPERIMENTS.md
    pairs: Optional[int] = None       # LPIPS pairs the thesis measured the numbers on (None: evaluation default)


EXPERIMENTS: dict = {}


def _add(*exps):
    for e in exps:
        if e.name in EXPERIMENTS:
            raise ValueError(f"duplicate experiment {e.name}")
        EXPERIMENTS[e.name] = e


# ---------------------------------------------------------------------------------------------- registry
# (filled below; see EXPERIMENTS.md for the commands and the numbers)


def get(name: str) -> Experiment:
    try:
        return EXPERIMENTS[name]
    except KeyError:
        close = difflib.get_close_matches(name, EXPERIMENTS, n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else " (see --list_experiments)"
        raise ExperimentError(f"unknown --experiment '{name}'{hint}") from None


def list_lines() -> list:
    """One line per experiment: name, what it reproduces, description."""
    width = max((len(n) for n in EXPERIMENTS), default=0)
    return [f"{e.name:<{width}}  {e.reproduces}: {e.description}" for e in EXPERIMENTS.values()]
