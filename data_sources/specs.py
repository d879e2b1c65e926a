"""The registry of data names: one DataSpec per dataset family answers every question the code asks of a name.

    spec_for("mnist2edge")  -> the entry that loads it and knows its domain names, image size, class names,
                               the thesis's evaluation pair count, its classifier set and defaults, its training
                               settings and whether it is the offline demo;
    spec_for(None)          -> FOLDERS, two local image folders (--domain_a/--domain_b).

A new dataset is one DataSpec appended to REGISTRY (README "Extending: a dataset"). A loader is named as
"module:function" (imported when the data is loaded) or given as a callable, so that this module never imports
TensorFlow: config.py uses it, and `python main.py --help` must stay fast.

Loaders (data.load_pair / load_single / load_labelled call them as loader(lower-case name, base.LoadRequest)):
    pair      -> (dataset A, dataset B, DataInfo), or two arrays of images [N, H, W] / [N, H, W, 3] (uint8, or
                 float in [0, 1]) that data.py streams as the two domains;
    single    -> (dataset, DataInfo), or one such array;
    labelled  -> (training batches, test batches, LabelledInfo);
    labels    -> (the single loader's images as an array, their int labels): what load_single's `classes` filters.
"""
from __future__ import annotations

import importlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional, Union

from data_sources.base import DataError

# ---------------------------------------------------------------------------------------------- names
CELEBA_ATTRIBUTES = (
    "5_o_Clock_Shadow", "Arched_Eyebrows", "Attractive", "Bags_Under_Eyes", "Bald", "Bangs", "Big_Lips",
    "Big_Nose", "Black_Hair", "Blond_Hair", "Blurry", "Brown_Hair", "Bushy_Eyebrows", "Chubby", "Double_Chin",
    "Eyeglasses", "Goatee", "Gray_Hair", "Heavy_Makeup", "High_Cheekbones", "Male", "Mouth_Slightly_Open",
    "Mustache", "Narrow_Eyes", "No_Beard", "Oval_Face", "Pale_Skin", "Pointy_Nose", "Receding_Hairline",
    "Rosy_Cheeks", "Sideburns", "Smiling", "Straight_Hair", "Wavy_Hair", "Wearing_Earrings", "Wearing_Hat",
    "Wearing_Lipstick", "Wearing_Necklace", "Wearing_Necktie", "Young")
# The configs of tfds `cycle_gan` (4.9.10); each also loads from local <data_dir>/<name>/trainA|trainB.
CYCLE_GAN_SETS = ("apple2orange", "summer2winter_yosemite", "horse2zebra", "monet2photo", "cezanne2photo",
                  "ukiyoe2photo", "vangogh2photo", "maps", "facades", "iphone2dslr_flower")
DIGIT_TRANSFORMS = ("edge", "negative", "rotate")
NATIVE_SIZE = {"digits": 8, "mnist": 28}   # resolution the derived domains are transformed at (sec. 5.2)

# Canonical names; load_pair also accepts a bare CelebA attribute (`Smiling` = `celeba_Smiling`).
COGAN_DATASETS: tuple[str, ...] = (
    tuple(f"digits2{t}" for t in DIGIT_TRANSFORMS) + tuple(f"mnist2{t}" for t in DIGIT_TRANSFORMS)
    + ("mnist2svhn", "mnist2svhn_prune", "mnist2fashion") + tuple(f"celeba_{a}" for a in CELEBA_ATTRIBUTES)
    + CYCLE_GAN_SETS)
SINGLE_DATASETS: tuple[str, ...] = ("toy", "digits", "mnist", "fashion_mnist", "svhn", "celeba")
# Labelled sets for the classifiers of thesis Appendix B (semantic loss, Eq. 4.2; SVHN pruning, sec. 2.7).
LABELLED_DATASETS: tuple[str, ...] = (("digits", "mnist", "mnist_svhn", "celeba")
                                      + tuple(f"{s}2{t}" for s in ("digits", "mnist") for t in DIGIT_TRANSFORMS))
PRUNED_SVHN = "mnist2svhn_prune"   # MNIST -> SVHN without the SVHN images the classifier doubts (sec. 2.7)
DIGIT_CLASSES = tuple(str(k) for k in range(10))
# Fashion-MNIST's ten labels in label order (Xiao et al. 2017, Table 1; the README of zalandoresearch/fashion-mnist).
FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                         "Ankle boot")
# How CelebA's aligned 218x178 faces become square (load_pair / load_single / load_labelled `celeba_crop`):
# "thesis" as the authors' code, tf.image.central_crop(image, 0.7) (a 154x126 box) resized to the target size,
# so slightly stretched vertically; "square" the largest central square (178x178). Other encoded sources
# (CycleGAN sets, folders) always take the square crop.
CELEBA_CROPS = ("thesis", "square")

# --gan_type classifier (thesis Appendix B): about 10 epochs at batch 128 (the thesis reports ~92 % on MNIST+SVHN
# after 10 epochs): MNIST 60,000 -> 4,700 steps, MNIST+SVHN 133,257 -> 10,400, CelebA train+validation
# 182,637 -> 14,300. The offline digits (1,617 training images) get 200 steps at batch 64 (~8 epochs, seconds).
# Keyed by DataSpec.classifier_family; a batch of None is config.DEFAULT_BATCH_SIZE.
CLASSIFIER_ITERATIONS = {"digits": 200, "mnist": 4700, "mnist_svhn": 10400, "celeba": 14300, "folder": 2000}
CLASSIFIER_BATCH_SIZE = {"digits": 64}

# Where the thesis trained a data set with other settings than sec. 5.1's, coupled runs on it default to them
# (any given option wins; the named experiments carry each experiment's own): sec. 5.2 trains MNIST2SVHN for
# 25,000 iterations (line 1048); sec. 5.3 CelebA with N(0, 0.02) weights, WGAN-GP with Gulrajani et al.'s
# settings and 35,000 iterations (line 1103); sec. 5.4 the CycleGAN sets at 128x128 with sec. 5.3's settings
# and 20,000 iterations (line 1160).
MNIST2SVHN_SETTINGS = dict(iterations=25000)
CELEBA_SETTINGS = dict(preset="wgan-gp", w_init="normal", iterations=35000)
CYCLE_GAN_SETTINGS = dict(preset="wgan-gp", w_init="normal", iterations=20000)

# Pairs per table in the thesis (ch. 3 and 5); sec. 5.4 (line 1160): "1000 samples for horse2zebra, and 995
# samples for apple2orange", the thesis's counts.
THESIS_PAIRS = {"derived": 30000, "mnist2svhn": 50000, "celeba": 50000, "apple2orange": 995, "horse2zebra": 1000}

Loader = Union[str, Callable, None]


@dataclass(frozen=True)
class DataSpec:
    """One dataset family. Names are matched lower-case: `names` exactly, `pattern` as a full match."""
    key: str                                      # the family, e.g. "derived", "celeba_attribute"
    names: tuple = ()                             # lower-case names
    pattern: Optional[str] = None                 # regex (full match) on the lower-case name
    pair: Loader = None                           # coupled-GAN loader (--cogan_data)
    single: Loader = None                         # single-GAN loader (--dataset)
    labelled: Loader = None                       # labelled set of the Appendix B classifiers
    labels: Loader = None                         # the single loader's images with their labels -> (images [N, ...],
    #                                               int labels [N]): what --classes filters (load_single)
    domains: Union[tuple, Callable, None] = None  # names of domains 1 and 2 for tables; callable(name as given);
    #                                               None: split at the first "2" ("apple", "orange"), or "X A/B"
    image_size: int = 32                          # default --image_size
    classes: Optional[tuple] = None               # class names of its labels, in label order (the labelled set;
    #                                               with `single`, what --classes picks from). None: not labelled, or
    #                                               CelebA's 13 attributes, classifiers.CELEBA_CLASSIFIER_ATTRIBUTES
    thesis_pairs: Optional[int] = None            # evaluation pairs of the thesis's tables (None: the default)
    pairs_source: str = ""                        # ... and where that count comes from
    classifier_set: Optional[str] = None          # labelled set whose classifier judges both domains (SL, pruning);
    #                                               None: the name itself where labelled, else no_classifier
    no_classifier: str = ""                       # DataError text when no classifier fits ("" the generic one)
    classifier_family: str = "folder"             # CLASSIFIER_ITERATIONS / CLASSIFIER_BATCH_SIZE key
    settings: dict = field(default_factory=dict)  # the thesis's training settings where not sec. 5.1's
    demo: bool = False                            # the offline demo (DEMO_* iterations and batch, DCGAN preset)
    derived: Optional[tuple] = None               # (transform, native size) of a derived pair
    uses_classifier: bool = False                 # loading needs the classifier of classifier_set (SVHN pruning)

    def matches(self, low: str) -> bool:
        return low in self.names or (self.pattern is not None and re.fullmatch(self.pattern, low) is not None)

    def domain_names(self, name: str) -> tuple:
        if callable(self.domains):
            return self.domains(name)
        return tuple(self.domains) if self.domains else split_name(name)

    @property
    def classifier_defaults(self) -> tuple:
        """(steps, batch size or None for config.DEFAULT_BATCH_SIZE) of its Appendix B classifier."""
        return (CLASSIFIER_ITERATIONS[self.classifier_family],
                CLASSIFIER_BATCH_SIZE.get(self.classifier_family))


def split_name(name: str) -> tuple:
    """Domain names from a pair's name: 'apple2orange' -> ('apple', 'orange'); 'maps' -> ('maps A', 'maps B')."""
    if "2" in name:
        a, _, b = name.partition("2")
        return a, b
    return f"{name} A", f"{name} B"


def resolve_attribute(name: str):
    """'celeba_Smiling', 'Smiling', 'celeba_smiling' -> 'Smiling'; None if not a CelebA attribute."""
    low = name.lower()
    if low.startswith("celeba_"):
        low = low[len("celeba_"):]
    return {a.lower(): a for a in CELEBA_ATTRIBUTES}.get(low)


def _attribute_domains(name):
    attribute = resolve_attribute(name)
    return attribute, f"not {attribute}"


_ATTRIBUTES = "|".join(re.escape(a.lower()) for a in CELEBA_ATTRIBUTES)
_CELEBA = dict(image_size=128, thesis_pairs=THESIS_PAIRS["celeba"], pairs_source="thesis count for CelebA")
_M = "data_sources.sources:"
_L = "data_sources.labelled:"


def _derived(source, transform):
    native = "MNIST" if source == "mnist" else "digits"
    return DataSpec(
        "derived", names=(f"{source}2{transform}",), pair=_M + "derived_pair", labelled="data_sources.labelled:digits",
        domains=(native, f"{native} {transform}"), classes=DIGIT_CLASSES, thesis_pairs=THESIS_PAIRS["derived"],
        pairs_source="thesis count for derived MNIST pairs",
        # the standard MNIST classifier judges edges (thesis line 1020); negatives and rotations need the pair's own
        classifier_set=source if transform == "edge" else None, classifier_family=source,
        demo=source == "digits", derived=(transform, NATIVE_SIZE[source]))


# Order matters only where patterns overlap (none do today); lists of valid names keep the order above.
REGISTRY: list = [
    DataSpec("toy", names=("toy",), single="data_sources.pipelines:toy_single"),
    DataSpec("digits", names=("digits",), single=_M + "digits_single", labelled="data_sources.labelled:digits",
             labels=_L + "digits_labels", classes=DIGIT_CLASSES, classifier_family="digits", demo=True),
    DataSpec("mnist", names=("mnist",), single=_M + "gray_single", labelled="data_sources.labelled:digits",
             labels=_L + "gray_labels", classes=DIGIT_CLASSES, classifier_family="mnist"),
    DataSpec("fashion_mnist", names=("fashion_mnist",), single=_M + "gray_single", labels=_L + "gray_labels",
             classes=FASHION_MNIST_CLASSES),
    DataSpec("svhn", names=("svhn",), single=_M + "svhn_single"),
    DataSpec("mnist_svhn", names=("mnist_svhn",), labelled="data_sources.labelled:mnist_svhn",
             classes=DIGIT_CLASSES, classifier_family="mnist_svhn"),
    DataSpec("celeba", names=("celeba",), single="data_sources.celeba:celeba_single",
             labelled="data_sources.celeba:celeba_labelled", classifier_family="celeba", **_CELEBA),
    *[_derived(s, t) for s in ("digits", "mnist") for t in DIGIT_TRANSFORMS],
    *[DataSpec("mnist2svhn", names=(n,), pair=_M + "mnist_pair", domains=("MNIST", svhn),
               thesis_pairs=THESIS_PAIRS["mnist2svhn"], pairs_source="thesis count for mnist2svhn",
               classifier_set="mnist_svhn", classifier_family="mnist_svhn", settings=MNIST2SVHN_SETTINGS,
               uses_classifier=n == PRUNED_SVHN) for n, svhn in (("mnist2svhn", "SVHN"), (PRUNED_SVHN, "SVHN (pruned)"))],
    DataSpec("mnist2fashion", names=("mnist2fashion",), pair=_M + "mnist_pair", domains=("MNIST", "Fashion-MNIST"),
             classifier_family="mnist",
             no_classifier="a classifier for a pair needs classes that both domains share, and MNIST digits and "
                           "Fashion-MNIST clothes share none: the semantic loss cannot couple mnist2fashion"),
    DataSpec("celeba_attribute", pattern=f"celeba_({_ATTRIBUTES})", pair="data_sources.celeba:celeba_pair",
             domains=_attribute_domains, classifier_set="celeba", classifier_family="celeba",
             settings=CELEBA_SETTINGS, **_CELEBA),
    # A bare attribute (`Smiling`) loads as celeba_Smiling but, as before the registry, keeps sec. 5.1's settings
    # and the folder classifier defaults.
    DataSpec("celeba_bare_attribute", pattern=_ATTRIBUTES, pair="data_sources.celeba:celeba_pair",
             domains=_attribute_domains, classifier_set="celeba", **_CELEBA),
    *[DataSpec("cycle_gan", names=(n,), pair=_M + "cycle_gan_pair", image_size=128,
               thesis_pairs=THESIS_PAIRS.get(n), pairs_source=f"thesis count for {n}" if n in THESIS_PAIRS else "",
               settings=CYCLE_GAN_SETTINGS if n in ("apple2orange", "horse2zebra") else {}) for n in CYCLE_GAN_SETS],
]

LOCAL_PAIR = _M + "local_pair"   # <data_dir>/<name>/trainA|trainB, any name (data.load_pair tries it)


def _folder_domains(domain_a=None, domain_b=None):
    return ((Path(domain_a or "domain 1").name or "domain 1"), (Path(domain_b or "domain 2").name or "domain 2"))


# Local image folders, --domain_a DIR --domain_b DIR (or one labelled folder for the classifier).
FOLDERS = DataSpec("folders", pair=_M + "folders_pair", single=_M + "folder_single",
                   labelled="data_sources.labelled:folder_labelled", domains=_folder_domains,
                   no_classifier="local image folders carry no labels shared by both domains: pass --classifier_path "
                                 "(train one with --gan_type classifier --domain_a DIR holding one subfolder per class)")

# Names no entry matches can still be local pair folders (<data_dir>/<name>/trainA|trainB). Their defaults follow
# the prefix rules of the code before this registry, kept so that no default changes (e.g. `celeba_x` 128x128).
_PREFIX_SETTINGS = ((("mnist2svhn",), MNIST2SVHN_SETTINGS), (("celeba_",), CELEBA_SETTINGS),
                    (("apple2orange", "horse2zebra"), CYCLE_GAN_SETTINGS))


def _unregistered(name: str) -> DataSpec:
    celeba, svhn = name.startswith("celeba"), name.startswith("mnist2svhn")
    pairs = (THESIS_PAIRS["celeba"], "thesis count for CelebA") if celeba else (
        (THESIS_PAIRS["mnist2svhn"], "thesis count for mnist2svhn") if svhn else (
            (THESIS_PAIRS[name], f"thesis count for {name}") if name in THESIS_PAIRS else (None, "")))
    family = next((f for f in ("digits", "mnist", "celeba") if name.startswith(f)), "folder")
    return DataSpec("unregistered", names=(name,), pair=LOCAL_PAIR, image_size=128 if celeba else 32,
                    thesis_pairs=pairs[0], pairs_source=pairs[1], classifier_family=family,
                    settings=next((dict(v) for p, v in _PREFIX_SETTINGS if name.startswith(p)), {}),
                    demo=name.startswith("digits"))


def spec_for(name) -> DataSpec:
    """The entry for a data name (matched lower-case; callers strip it where they accept padded names);
    FOLDERS for no name (local folders); for a name no entry matches, a local pair folder's spec."""
    if not name:
        return FOLDERS
    low = str(name).lower()
    for spec in REGISTRY:
        if spec.matches(low):
            return spec
    return _unregistered(low)


def load_function(loader: Loader):
    """A spec's loader as a callable ("module:function" imported now)."""
    if isinstance(loader, str):
        module, _, function = loader.partition(":")
        return getattr(importlib.import_module(module), function)
    return loader


# ---------------------------------------------------------------------------------------------- the questions
def default_image_size(name) -> int:
    """32 for the digit sets and folders, 128 for CelebA and the CycleGAN sets (thesis ch. 5)."""
    return spec_for(name).image_size if name else FOLDERS.image_size


def domain_names(name, domain_a=None, domain_b=None) -> tuple:
    """Readable names of domain 1 and domain 2 for the tables; local folders: the folders' names."""
    name = (name or "").strip()
    if not name:
        return _folder_domains(domain_a, domain_b)
    return spec_for(name).domain_names(name)


def thesis_pairs(name) -> tuple:
    """(the thesis's evaluation pair count or None, where it comes from) for a coupled pair."""
    spec = spec_for((name or "").strip().lower())
    return spec.thesis_pairs, spec.pairs_source


def derived_transform(name):
    """(transform, native resolution) for a derived pair (digits/mnist 2 edge|negative|rotate), else None."""
    return spec_for((name or "").strip().lower()).derived


def data_settings(name) -> dict:
    """The thesis's training settings for a coupled pair where they differ from sec. 5.1."""
    name = (name or "").strip().lower()
    return dict(spec_for(name).settings) if name else {}


def is_demo(name) -> bool:
    """Whether `name` is the offline demo (digits*). Case-sensitive, as this test has always been: `Digits2edge`
    loads the digits but trains with the full defaults."""
    return bool(name) and spec_for(name).demo and str(name).startswith("digits")


def uses_classifier(name) -> bool:
    """Whether loading coupled pair `name` needs a classifier (mnist2svhn_prune: SVHN pruning, sec. 2.7)."""
    return spec_for((name or "").strip().lower()).uses_classifier


def classifier_family(name) -> str:
    """Which CLASSIFIER_ITERATIONS / CLASSIFIER_BATCH_SIZE entry a labelled set (or pair) falls under."""
    return spec_for((name or "").lower()).classifier_family


# ---------------------------------------------------------------------------------------------- --classes
def _class_key(name) -> str:
    """'T-shirt/top', 't_shirt top' -> 'tshirttop': case, spaces and punctuation do not count."""
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


def _class_spellings(names) -> dict:
    """{spelling key: class id}: the id, the whole name, and each part of a name with a slash ('tshirt', 'top')."""
    keys = {}
    for k, n in enumerate(names):
        for spelling in (str(k), n, *n.split("/")):
            keys.setdefault(_class_key(spelling), k)
    return keys


def _class_of(keys, part):
    """The class id a spelling names, or None. An id is bare digits: '-1' or '1.0' is not class 1."""
    key = part if part.isdigit() else _class_key(part)
    return None if key.isdigit() and key != part else keys.get(key)


def class_filter_datasets() -> tuple:
    """The single-GAN sets whose loaders read labels beside the images, so that --classes can pick from them."""
    return tuple(s.names[0] for s in REGISTRY if s.labels and s.classes and s.names)


def class_ids(dataset, classes) -> tuple:
    """--classes (ids or names, comma-separated, or a sequence of them) for single-GAN data `dataset` -> the sorted,
    distinct class ids (issue 20 item 7). dataset None: a local folder, which has no labels. DataError (one line,
    the valid spellings) for data without labels or an unknown class."""
    low = (dataset or "").strip().lower()
    spec = spec_for(low) if low else None
    if spec is None or not (spec.labels and spec.classes):
        what = f"--dataset {dataset}" if low else "a folder (--domain_a)"
        raise DataError(f"--classes keeps the images of some classes, by the labels read beside them: {what} has "
                        f"none here; use --dataset {' | '.join(class_filter_datasets())}")
    parts = [p.strip() for p in (classes.split(",") if isinstance(classes, str) else map(str, classes))]
    keys = _class_spellings(spec.classes)
    unknown = [p for p in parts if _class_of(keys, p) is None]
    if unknown or not parts:
        valid = ", ".join(f"{k}" if n == str(k) else f"{k}={n}" for k, n in enumerate(spec.classes))
        bad = f"unknown class '{unknown[0]}'" if unknown and unknown[0] else "an empty class name"
        raise DataError(f"--classes {classes}: {bad} of {low}; "
                        f"give ids or names, comma-separated: {valid}")
    return tuple(sorted({_class_of(keys, p) for p in parts}))


def class_names(dataset, ids) -> tuple:
    """Names of class ids of single-GAN data `dataset` (for the log)."""
    names = spec_for((dataset or "").strip().lower()).classes
    return tuple(names[k] for k in ids)


def classifier_data_for(pair) -> str:
    """The labelled set whose classifier can judge both generators of a coupled pair (the semantic loss,
    Eq. 4.2, compares its outputs on G1(z) and G2(z); pruning, sec. 2.7, scores SVHN with it):

    mnist2edge -> mnist, the standard MNIST classifier (thesis line 1020: "trained on the standard MNIST
    dataset for 10 epochs, reaching an accuracy of ~98%"; the thesis ran SL on mnist2edge only);
    digits2edge -> digits, its offline analogue;
    digits2negative/rotate, mnist2negative/rotate -> the pair itself (domain A images + transformed domain B
    images, the same labels): a classifier of upright digits on black cannot classify negatives or rotations;
    mnist2svhn, mnist2svhn_prune -> mnist_svhn; celeba_<Attribute> -> celeba (the 13 attributes of Table B.2).
    A labelled set's own name maps to itself (`--gan_type classifier --cogan_data mnist2edge` still trains
    the mnist2edge pair classifier when asked for by name).
    Pairs whose domains share no labels, and local folders (pair None), raise DataError.
    """
    low = (pair or "").strip().lower()
    spec = spec_for(low)
    if spec.classifier_set:
        return spec.classifier_set
    if spec.labelled and low:
        return low
    raise DataError(spec.no_classifier or f"no labelled set gives both domains of '{pair}' one classifier: pass "
                    f"--classifier_path (train one with --gan_type classifier --domain_a DIR holding one subfolder "
                    f"per class)")
