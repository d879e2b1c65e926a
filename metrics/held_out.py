"""The held-out pairs of a paired source (data.load_paired's test split) read for evaluation, and the ground-truth
ceiling measured on them: LPIPS of a real domain-1 image against its own transform (issue 20 item 5).

Shared by a translation run's table (translation_eval.py) and a coupled run's (metrics.measures'
GroundTruthCeiling), so that both read the same pairs in the same order and give the same number; it imports
neither evaluation module (TensorFlow only inside the data loader).
"""
from __future__ import annotations

import numpy as np

from config import ConfigError
from metrics.markdown import pm

CEILING_TRANSFORM = "Real {d1} vs transform(Real {d1}) (held-out pairs; ground-truth ceiling)"


def _paired_data(cfg, batch, direction=None):
    """The held-out pairs -> (dataset of (x, y) batches in a fixed order, S pairs)."""
    import data
    ds, info = data.load_paired(cfg.cogan_data, batch_size=batch, seed=0, split="test",
                                direction=direction or cfg.direction or "AtoB", folder=cfg.paired_dir,
                                data_dir=cfg.data_dir, image_size=cfg.image_size, download=cfg.download)
    return ds, int(info.sizes[0])


def paired_batches(cfg, batch, direction=None):
    """-> (iterator of {real1, real2, other1, other2} numpy batches, S): held-out pair i as real1/real2 and pair
    (i + S // 2) mod S as other1/other2, the unpaired partners (a rotation: never a pair's own images)."""
    ds, size = _paired_data(cfg, batch, direction)
    if size < 2:
        raise ConfigError(f"the held-out split of {cfg.data_name} holds {size} pair(s): an unpaired partner needs "
                          f"at least 2")
    flat = ds.unbatch()
    shift = size // 2
    others = flat.skip(shift).concatenate(flat.take(shift)).batch(batch)

    def batches():
        for (x, y), (ox, oy) in zip(ds, others):
            yield {"real1": x.numpy(), "real2": y.numpy(), "other1": ox.numpy(), "other2": oy.numpy()}
    return batches(), size


def ceiling_values(cfg, lpips, n, batch) -> np.ndarray:
    """LPIPS of the first min(n, S) held-out pairs (x, transform(x)) of a derived set: the ground-truth ceiling, data
    only. A coupled run's evaluation calls it (metrics.measures.GroundTruthCeiling); a translation run's table gets
    the same values from its own stream of the same pairs."""
    it, size = paired_batches(cfg, batch, direction="AtoB")
    n, out, done = min(int(n), size), [], 0
    for im in it:
        b = min(len(im["real1"]), n - done)
        out.append(np.asarray(lpips(im["real1"][:b], im["real2"][:b]), np.float32).reshape(-1))
        done += b
        if done >= n:
            break
    return np.concatenate(out)


def skipped_section(title, section, body) -> list:
    """A Markdown section: its body, or one line saying why it was skipped."""
    if "skipped" in section:
        return [title, "", f"Skipped: {section['skipped']}.", ""]
    return [title, ""] + body(section)


def ceiling_section(r: dict) -> list:
    """metrics.md of a coupled run: its ground_truth_ceiling section (metrics.measures.GroundTruthCeiling)."""
    c = r.get("ground_truth_ceiling") or {"skipped": "not in this metrics.json (evaluated before the measure existed)"}

    def body(c):
        return ["Data only: a real domain-1 image against its own transform, on the held-out pairs of "
                "data.load_paired; the same number a translation run's table has (its ground-truth ceiling row). "
                "Same-z pairs of a coupled GAN that learned the transform read about this.", "",
                "| compared | LPIPS | pairs |", "|---|---|---|", f"| {c['label']} | {pm(c)} | {c['n']:,} |", ""]
    return skipped_section("## Ground-truth ceiling (LPIPS)", c, body)
