"""data_sources.specs: one registry entry per dataset answers every question about a data name.

(a) a dataset added through the registry alone trains end to end and answers the evaluation's questions;
(b) every existing name answers exactly what the per-file functions answered before the registry (the table
below is written by hand from that code: data.py, evaluation.py, config.py)."""
import json
from pathlib import Path

import numpy as np
import pytest

import config
import data
import evaluation
import main
from config import Config
from data import DataError
from data_sources import specs


# ---------------------------------------------------------------------------------------------- (a) a new entry
def blobs_and_squares(name, req):
    """Two small generated domains, grayscale [N, 12, 12] in [0, 1]: soft blobs and solid squares."""
    rng = np.random.RandomState(0)
    yy, xx = np.mgrid[:12, :12]
    blobs = np.stack([np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / 8.0) for cy, cx in rng.uniform(3, 9, (16, 2))])
    squares = np.zeros((16, 12, 12), np.float32)
    for i, (y, x) in enumerate(rng.randint(0, 6, (16, 2))):
        squares[i, y:y + 6, x:x + 6] = 1.0
    return blobs.astype(np.float32), squares


BLOBS = specs.DataSpec("blobs2squares", names=("blobs2squares",), pair=blobs_and_squares,
                       domains=("blobs", "squares"), thesis_pairs=123, pairs_source="test count for blobs2squares",
                       settings=dict(w_init="normal"))


@pytest.fixture
def blobs(monkeypatch):
    monkeypatch.setattr(specs, "REGISTRY", [*specs.REGISTRY, BLOBS])
    return BLOBS


def test_a_new_entry_trains_and_answers_from_the_registry(blobs, tmp_path):
    cfg = Config(gan_type="cogan", cogan_data="blobs2squares")
    assert evaluation.domain_names(cfg) == ("blobs", "squares")
    assert evaluation.default_num_pairs(cfg) == (123, "test count for blobs2squares")
    assert evaluation.derived_transform(cfg) is None
    assert config.data_settings(cfg) == {"w_init": "normal"}
    assert data.default_image_size("blobs2squares") == 32
    with pytest.raises(DataError, match="no labelled set gives both domains of 'blobs2squares'"):
        data.classifier_data_for("blobs2squares")

    a, b, info = data.load_pair("Blobs2Squares", batch_size=4, seed=0)
    assert info == data.DataInfo("blobs2squares", (32, 32, 3), (16, 16))
    for ds in (a, b):
        x = next(iter(ds)).numpy()
        assert x.shape == (4, 32, 32, 3) and x.min() >= -1.0 and x.max() <= 1.0

    run = tmp_path / "run"
    assert main.main(["--gan_type", "cogan", "--cogan_data", "blobs2squares", "--iterations", "2", "--batch_size", "4",
                      "--dir", str(run), "--no_final_eval", "--preset", "dcgan", "--sample_rows", "1",
                      "--sample_cols", "2"]) == 0
    saved = json.loads((run / "config.json").read_text())
    assert saved["cogan_data"] == "blobs2squares" and saved["w_init"] == "normal"   # the entry's settings


def test_without_the_entry_the_name_is_unknown(tmp_path):
    with pytest.raises(DataError, match="unknown coupled dataset 'blobs2squares'"):
        data.load_pair("blobs2squares", batch_size=4, seed=0, data_dir=str(tmp_path))


# ---------------------------------------------------------------------------------------------- (b) existing names
DERIVED = "thesis count for derived MNIST pairs"
DEFAULT = (evaluation.DEFAULT_PAIRS, "default (the thesis has no count for this data)")
CELEBA_PAIRS = (50000, "thesis count for CelebA")
SVHN_PAIRS = (50000, "thesis count for mnist2svhn")
WGAN_GP_35K = dict(preset="wgan-gp", w_init="normal", iterations=35000)
WGAN_GP_20K = dict(preset="wgan-gp", w_init="normal", iterations=20000)
NO_SET = "no labelled set gives both domains"
FOLDER_CLF = (2000, 128)

# name: (domain names, (pairs, source), image size, classifier set or DataError text, coupled settings,
#        classifier (steps, batch), offline demo, derived (transform, native size))
EXPECTED = {
    "digits2edge": (("digits", "digits edge"), (30000, DERIVED), 32, "digits", {}, (200, 64), True, ("edge", 8)),
    "digits2negative": (("digits", "digits negative"), (30000, DERIVED), 32, "digits2negative", {}, (200, 64), True,
                        ("negative", 8)),
    "digits2rotate": (("digits", "digits rotate"), (30000, DERIVED), 32, "digits2rotate", {}, (200, 64), True,
                      ("rotate", 8)),
    "mnist2edge": (("MNIST", "MNIST edge"), (30000, DERIVED), 32, "mnist", {}, (4700, 128), False, ("edge", 28)),
    "mnist2negative": (("MNIST", "MNIST negative"), (30000, DERIVED), 32, "mnist2negative", {}, (4700, 128), False,
                       ("negative", 28)),
    "mnist2rotate": (("MNIST", "MNIST rotate"), (30000, DERIVED), 32, "mnist2rotate", {}, (4700, 128), False,
                     ("rotate", 28)),
    "mnist2svhn": (("MNIST", "SVHN"), SVHN_PAIRS, 32, "mnist_svhn", {"iterations": 25000}, (10400, 128), False, None),
    "mnist2svhn_prune": (("MNIST", "SVHN (pruned)"), SVHN_PAIRS, 32, "mnist_svhn", {"iterations": 25000},
                         (10400, 128), False, None),
    "mnist2fashion": (("MNIST", "Fashion-MNIST"), DEFAULT, 32, "share none: the semantic loss cannot couple", {},
                      (4700, 128), False, None),
    "celeba_Smiling": (("Smiling", "not Smiling"), CELEBA_PAIRS, 128, "celeba", WGAN_GP_35K, (14300, 128), False,
                       None),
    "celeba_eyeglasses": (("Eyeglasses", "not Eyeglasses"), CELEBA_PAIRS, 128, "celeba", WGAN_GP_35K, (14300, 128),
                          False, None),
    # a bare attribute loads as celeba_<Attribute> but kept sec. 5.1's settings and the folder classifier steps
    "Smiling": (("Smiling", "not Smiling"), CELEBA_PAIRS, 128, "celeba", {}, FOLDER_CLF, False, None),
    "blond_hair": (("Blond_Hair", "not Blond_Hair"), CELEBA_PAIRS, 128, "celeba", {}, FOLDER_CLF, False, None),
    "apple2orange": (("apple", "orange"), (995, "thesis count for apple2orange"), 128, NO_SET, WGAN_GP_20K,
                     FOLDER_CLF, False, None),
    "horse2zebra": (("horse", "zebra"), (1000, "thesis count for horse2zebra"), 128, NO_SET, WGAN_GP_20K, FOLDER_CLF,
                    False, None),
    "summer2winter_yosemite": (("summer", "winter_yosemite"), DEFAULT, 128, NO_SET, {}, FOLDER_CLF, False, None),
    "monet2photo": (("monet", "photo"), DEFAULT, 128, NO_SET, {}, FOLDER_CLF, False, None),
    "cezanne2photo": (("cezanne", "photo"), DEFAULT, 128, NO_SET, {}, FOLDER_CLF, False, None),
    "ukiyoe2photo": (("ukiyoe", "photo"), DEFAULT, 128, NO_SET, {}, FOLDER_CLF, False, None),
    "vangogh2photo": (("vangogh", "photo"), DEFAULT, 128, NO_SET, {}, FOLDER_CLF, False, None),
    "maps": (("maps A", "maps B"), DEFAULT, 128, NO_SET, {}, FOLDER_CLF, False, None),
    "facades": (("facades A", "facades B"), DEFAULT, 128, NO_SET, {}, FOLDER_CLF, False, None),
    "iphone2dslr_flower": (("iphone", "dslr_flower"), DEFAULT, 128, NO_SET, {}, FOLDER_CLF, False, None),
    # single-GAN and labelled names (--dataset; as --cogan_data only local pair folders would accept them)
    "toy": (("toy A", "toy B"), DEFAULT, 32, NO_SET, {}, FOLDER_CLF, False, None),
    "digits": (("digits A", "digits B"), DEFAULT, 32, "digits", {}, (200, 64), True, None),
    "mnist": (("mnist A", "mnist B"), DEFAULT, 32, "mnist", {}, (4700, 128), False, None),
    "fashion_mnist": (("fashion_mnist A", "fashion_mnist B"), DEFAULT, 32, NO_SET, {}, FOLDER_CLF, False, None),
    "svhn": (("svhn A", "svhn B"), DEFAULT, 32, NO_SET, {}, FOLDER_CLF, False, None),
    "mnist_svhn": (("mnist_svhn A", "mnist_svhn B"), DEFAULT, 32, "mnist_svhn", {}, (10400, 128), False, None),
    "celeba": (("celeba A", "celeba B"), CELEBA_PAIRS, 128, "celeba", {}, (14300, 128), False, None),
    # names no entry has (local pair folders <data_dir>/<name>/trainA|trainB): the prefix defaults of before
    "celeba_x": (("celeba_x A", "celeba_x B"), CELEBA_PAIRS, 128, NO_SET, WGAN_GP_35K, (14300, 128), False, None),
    "mnist2svhn_x": (("mnist", "svhn_x"), SVHN_PAIRS, 32, NO_SET, {"iterations": 25000}, (4700, 128), False, None),
    "apple2orange_x": (("apple", "orange_x"), DEFAULT, 32, NO_SET, WGAN_GP_20K, FOLDER_CLF, False, None),
    "digits_x": (("digits_x A", "digits_x B"), DEFAULT, 32, NO_SET, {}, (200, 64), True, None),
    "Foo2Bar": (("Foo", "Bar"), DEFAULT, 32, NO_SET, {}, FOLDER_CLF, False, None),
}


def answers(name, **folders):
    cfg = Config(gan_type="cogan", cogan_data=name, **folders)
    try:
        classifier_set = data.classifier_data_for(name)
    except DataError as e:
        classifier_set = str(e)
    return (evaluation.domain_names(cfg), evaluation.default_num_pairs(cfg), data.default_image_size(name),
            classifier_set, config.data_settings(cfg), config.classifier_defaults(name),
            config.default_preset(cfg) == "dcgan", evaluation.derived_transform(cfg))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_existing_name_answers_as_before(name):
    got, want = answers(name), EXPECTED[name]
    assert got[:3] + got[4:] == want[:3] + want[4:]
    if want[3] in data.LABELLED_DATASETS:
        assert got[3] == want[3]
    else:   # the DataError's one line
        assert want[3] in got[3] and "\n" not in got[3]


def test_every_canonical_and_attribute_name_is_covered():
    for a in data.CELEBA_ATTRIBUTES:
        for name, settings, steps in ((f"celeba_{a}", WGAN_GP_35K, 14300), (a, {}, 2000), (a.lower(), {}, 2000)):
            assert answers(name) == ((a, f"not {a}"), CELEBA_PAIRS, 128, "celeba", settings, (steps, 128), False, None)
    for name in data.COGAN_DATASETS:
        if not name.startswith("celeba_"):
            # names match in any case (domain names and errors keep the name as given; the demo test is
            # case-sensitive)
            lower, upper = answers(name), answers(name.upper())
            assert lower[1:3] + lower[4:6] + lower[7:] == upper[1:3] + upper[4:6] + upper[7:] and name in EXPECTED
            assert lower[3].lower() == upper[3].lower()
    assert set(data.SINGLE_DATASETS) | set(data.LABELLED_DATASETS) <= set(EXPECTED)


def test_folders_and_no_name():
    folders = dict(domain_a="x/horses", domain_b="y/zebras")
    assert answers(None, **folders)[:2] == (("horses", "zebras"), DEFAULT)
    assert answers(None)[:3] == (("domain 1", "domain 2"), DEFAULT, 32)
    assert "local image folders carry no labels" in answers(None)[3]
    assert config.classifier_defaults(None) == FOLDER_CLF and specs.spec_for(None) is specs.FOLDERS


def test_padding_and_case_are_read_as_before():
    assert data.default_image_size("CelebA_Smiling") == 128 and data.default_image_size(" celeba_Smiling") == 32
    assert evaluation.default_num_pairs(Config(cogan_data=" MNIST2Edge ")) == (30000, DERIVED)
    assert evaluation.domain_names(Config(cogan_data=" Apple2Orange ")) == ("Apple", "Orange")
    # the demo test has always been case-sensitive
    assert specs.is_demo("digits2edge") and not specs.is_demo("Digits2edge") and not specs.is_demo(None)
    assert specs.uses_classifier(" mnist2svhn_prune") and not specs.uses_classifier("mnist2svhn")


def test_specs_import_no_tensorflow():
    import subprocess
    import sys
    code = "import sys, config, data_sources.specs; assert 'tensorflow' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parents[1])
