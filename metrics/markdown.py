"""metrics.json -> metrics.md: the Markdown of every evaluation, apart from the measuring (metrics/measures.py).

`render` lays out a coupled run's evaluation: a header, then the sections it is given (measures.render_markdown
passes each registry entry's: lpips_section, pixel_section, class_section, frechet_section,
inception_section), then a footer;
`render_toy` a toy-ring run's mode coverage.
"""
from __future__ import annotations

FCD_NAME = "FCD (classifier features, not FID)"  # the Frechet distance on the evaluation classifier's features
EDGE_CEILING = (" for the transform as applied here; since the edge is taken at the native size and resized back, "
                "the same real image through this and through data.py's path agrees on ~84% of pixels (digits) "
                "and ~87% (MNIST), so about that is the practical ceiling")
def pm(s, digits=4) -> str:
    """mean ± standard error of a {"mean", "se"} summary."""
    se = "n/a" if s["se"] is None else f"{s['se']:.{digits}f}"
    return f"{s['mean']:.{digits}f} ± {se}"


def render(r: dict, sections) -> str:
    """metrics.json -> metrics.md: the thesis's LPIPS table and the pairing measures, with what each means.
    `sections`: the renderers r -> lines, in order (one per measure of metrics.measures.MEASURES)."""
    d1, d2 = r["domains"]
    lines = [f"# Evaluation of `{r['run_dir']}` (step {r['step']})", "",
             f"{r['gan_type']} on {r['data']} ({r['image_size']}x{r['image_size']}): domain 1 = {d1}, "
             f"domain 2 = {d2}. N = {r['pairs']:,} pairs ({r['pairs_source']}); generated pairs share z; "
             f"noise and real images drawn with the fixed seed {r['seed']}.", ""]
    lines += [f"- {note}" for note in r["notes"]] + ([""] if r["notes"] else [])
    for section in sections:
        lines += section(r)
    lines += [f"Computed in {r['seconds']} s, batch {r['batch_size']}.", ""]
    return "\n".join(lines)


def lpips_section(r: dict) -> list:
    d1, d2 = r["domains"]
    lines = []
    lp = r["lpips"]
    lines += [f"## LPIPS ({lp['net']}, v{lp['version']}; thesis Tables 3.3-3.8, 5.1-5.4)", "",
              "Mean over the pairs ± standard error; lower = more alike.", "",
              "| compared | LPIPS | pairs |", "|---|---|---|"]
    rows = lp["rows"]
    lines += [f"| {row['label']} | {pm(row)} | {row['n']:,} |" for row in rows.values()]
    lines += ["", f"*Real {d1} vs Real {d2}* compares real images of the two domains drawn independently "
              f"(unpaired, as in the thesis): the distance between two unrelated images of the two domains. A "
              f"coupled GAN that learned the joint distribution puts *Gen. {d1} vs Gen. {d2}* (same z) below "
              f"it; the *Gen. vs Real* rows are unpaired too and say how far samples lie from real images "
              f"of their own domain (and of the other one).", ""]
    if all(k in rows for k in ("gen1_vs_real1", "gen1_vs_real2", "gen2_vs_real1", "gen2_vs_real2")):
        lines += ["As the thesis lays it out (Tables 3.3-3.8): generated rows against real columns, on the same "
                  "images as above.", "", f"| Gen./Real | Real {d1} | Real {d2} |", "|---|---|---|",
                  f"| Gen. {d1} | {pm(rows['gen1_vs_real1'])} | {pm(rows['gen1_vs_real2'])} |",
                  f"| Gen. {d2} | {pm(rows['gen2_vs_real1'])} | {pm(rows['gen2_vs_real2'])} |", ""]
    lines += [
              f"Figures: `{r['figures']['lowest']['file']}` and `{r['figures']['highest']['file']}` hold the "
              f"generated pairs with the lowest and highest LPIPS ({d1} above {d2}).", ""]
    return lines


def _section(title, section, body) -> list:
    """A measure's heading, then "Skipped: why." or its body(section) lines."""
    if "skipped" in section:
        return [title, "", f"Skipped: {section['skipped']}.", ""]
    return [title, ""] + body(section)


def pixel_section(r: dict) -> list:
    d1, d2 = r["domains"]

    def body(pa):
        return [f"The known transform (`{pa['transform']}`, applied as data.py builds domain 2, at "
                  f"{pa['native_size']}x{pa['native_size']} for the edge) of G1(z) against G2(z), as grayscale "
                  f"intensities in [0, 1]; a pixel agrees when they differ by at most {pa['tolerance']}. "
                  f"Perfect pairs give 0 and 1{EDGE_CEILING if pa['transform'] == 'edge' else ''}.", "",
                  "| compared | mean abs. difference | pixels agreeing |", "|---|---|---|",
                  f"| {pa['transform']}(Gen. {d1}) vs Gen. {d2} (same z) | {pm(pa['generated']['mean_abs_diff'])} "
                  f"| {pm(pa['generated']['agreement'])} |",
                  f"| {pa['transform']}(Real {d1}) vs Real {d2} (unpaired, chance level) | "
                  f"{pm(pa['real_unpaired']['mean_abs_diff'])} | {pm(pa['real_unpaired']['agreement'])} |", ""]
    return _section("## Pixel agreement (derived pairs; CoGAN paper, Liu & Tuzel 2016)", r["pixel_agreement"], body)


def class_section(r: dict) -> list:
    d1, d2 = r["domains"]

    def body(ca):
        how = ("per-attribute agreement of the thresholded sigmoids, averaged" if ca["multilabel"]
               else "same argmax class")
        return [f"Fraction of pairs the evaluation classifier `{ca['classifier']}` puts in the same class "
                  f"({how}).", "", "| compared | agreement | pairs |", "|---|---|---|",
                  f"| Gen. {d1} vs Gen. {d2} (same z) | {pm(ca['generated'])} | {ca['generated']['n']:,} |",
                  f"| Real {d1} vs Real {d2} (unpaired, chance level) | {pm(ca['real_unpaired'])} | "
                  f"{ca['real_unpaired']['n']:,} |", ""]
    return _section("## Class agreement", r["class_agreement"], body)


def frechet_section(r: dict) -> list:
    d1, d2 = r["domains"]

    def body(fr):
        lines = [f"{fr['name']}, each on {fr['n']:,} generated and {fr['n']:,} real images; lower = closer.", "",
                 "| compared | distance |", "|---|---|",
                 f"| Gen. {d1} vs Real {d1} | {fr['domain1']:.3f} |",
                 f"| Gen. {d2} vs Real {d2} | {fr['domain2']:.3f} |",
                 f"| Real {d1} vs Real {d2} (between the domains, for scale) | {fr['real1_vs_real2']:.3f} |", ""]
        if fr["name"] == FCD_NAME:
            lines += ["These are Fréchet distances on the evaluation classifier's penultimate features, not FID: "
                      "do not compare them with FID values.", ""]
        if fr.get("note"):
            lines += [f"Note: {fr['note']}.", ""]
        return lines
    return _section("## Fréchet distance per domain", r["frechet"], body)


def inception_section(r: dict) -> list:
    """The Inception Score per domain under each classifier (metrics.measures.InceptionScore)."""
    def body(sc):
        lines = [f"{sc['formula']}. Higher = each image confidently in one class and the classes evenly covered; "
                 f"at most the number of classes. The real images' score is the reference for the generated "
                 f"ones of their domain. Each classifier gives its own scale: compare scores under the same one.", ""]
        for c in sc["classifiers"].values():
            rows = c["rows"].values()
            splits = next(iter(rows))["splits"]
            classes = f", {c['classes']} classes" if c.get("classes") else ""
            lines += [f"Under the {c['label']}{classes}:", "",
                      f"| images | IS (mean ± std over {splits} splits) | images |", "|---|---|---|"]
            lines += [f"| {row['label']} | {row['mean']:.3f} ± {row['std']:.3f} | {row['n']:,} |" for row in rows]
            per_split = next(iter(rows))["n"] // splits
            if c.get("classes") and per_split < 10 * c["classes"]:   # a split of m images scores at most m
                lines += ["", f"Only about {per_split:,} images per split for {c['classes']} classes: the score is "
                              f"biased low (published scores use 50,000 images)."]
            lines += [""]
        lines += [f"Not computed under `{key}`: {why}." for key, why in sc["not_computed"].items()]
        return lines + ([""] if sc["not_computed"] else [])
    return _section("## Inception Score per domain (Salimans et al. 2016)", r.get("inception_score", {
        "skipped": "not in this metrics.json (evaluated before the measure existed)"}), body)


def _ring_name(ring: dict) -> str:
    """', `--toy_ring NAME`' (data.TOY_RINGS) with its fixed set's size; '' for a metrics.json without the name."""
    if not ring.get("name"):
        return ""
    size = f", a fixed set of {ring['size']:,} points" if ring.get("size") else ", sampled afresh"
    return f"; `--toy_ring {ring['name']}`{size}"


def render_toy(r: dict) -> str:
    """metrics.json of a toy-ring run -> metrics.md: modes covered and high-quality share."""
    m, ring = r["modes"], r["ring"]
    lines = [f"# Evaluation of `{r['run_dir']}` (step {r['step']})", "",
             f"{r['gan_type']} on the ring of {ring['modes']} Gaussians (radius {ring['radius']:g}, std "
             f"{ring['std']:g}{_ring_name(ring)}; thesis sec. 2.3.2, Figs. 2.10, 2.11, 2.14). "
             f"{r['samples']:,} generated points ({r['samples_source']}) from {r.get('noise', 'uniform')} noise "
             f"drawn with the fixed seed {r['seed']}.", "",
             "## Mode coverage", "",
             "| measure | value |", "|---|---|",
             f"| modes covered | {m['covered']} / {m['modes']} |",
             f"| high-quality points | {m['high_quality']:.4f} ({m['n']:,} points) |", "",
             f"Definition: {m['definition']}. Real ring data scores {m['modes']} / {m['modes']} and about 0.989 "
             f"(the share of a 2-D Gaussian within 3 std).", "",
             "| mode | " + " | ".join(str(i) for i in range(m["modes"])) + " |",
             "|---|" + "---|" * m["modes"],
             "| high-quality points | " + " | ".join(f"{k:,}" for k in m["per_mode"]) + " |", "",
             f"Figure: `{r['figures']['scatter']}` (generated points over the mode centres).", "",
             f"Computed in {r['seconds']} s.", ""]
    return "\n".join(lines)
