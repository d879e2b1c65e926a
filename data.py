"""Data: the domain pairs of the thesis (ch. 5) and single-GAN sets as infinite, seeded tf.data pipelines.

Every dataset returned here repeats forever, is shuffled from `seed`, yields float32 batches of shape
(batch, H, W, 3) in [-1, 1] (grayscale repeated to RGB) or (batch, 2) for the toy ring, and is built from
tf.data ops only, so that `tf.train.Checkpoint(it=iter(ds))` saves its position and a resumed run sees
exactly the batches it would have seen.

Sources, in order of preference:
  * offline, shipped with scikit-learn: `digits2edge`, `digits2negative`, `digits2rotate`, `digits`;
  * files in `data_dir`: MNIST / Fashion-MNIST idx files, CelebA's `img_align_celeba/` +
    `list_attr_celeba.txt`, CycleGAN `<name>/trainA|trainB` folders;
  * tensorflow-datasets (downloads, or a data_dir prepared with `tfds build` on a machine with internet);
  * any one or two local image folders.

`load_labelled` gives the labelled sets of the Appendix B classifiers (semantic loss, Eq. 4.2; SVHN pruning,
sec. 2.7) as (images, labels) batches plus a held-out test split; `mnist2svhn_prune` drops the SVHN images
such a classifier doubts.
"""
from __future__ import annotations
from __future__ import annotations

import os

# tfds probes Google Cloud Storage even for local data and can stall for minutes offline (datasets#2400).
os.environ.setdefault("NO_GCE_CHECK", "true")

import numpy as np  # noqa: E402

# The modules of data_sources/ hold the implementation; their public names (and the private ones the tests
# use) stay reachable here.
from data_sources import specs  # noqa: E402
from data_sources.base import DataError, DataInfo, LabelledInfo, LoadRequest  # noqa: E402
from data_sources.celeba import _celeba_manual, _check_crop, read_celeba_attributes  # noqa: E402
from data_sources.files import IMAGE_EXTENSIONS, _find_idx, _find_idx_file, read_idx  # noqa: E402
from data_sources.labelled import (TEST_FRACTION, _class_folders, _digit_arrays, _held_out,  # noqa: E402
                                   _load_gray_labelled, split_test)
from data_sources.pipelines import (AUTOTUNE, EVAL_BATCH_SIZE, TFDS_SHUFFLE_BUFFER,  # noqa: E402
                                    THESIS_CENTRAL_FRACTION, TOY_MODES, TOY_RADIUS, TOY_STD, _array_pipeline,
                                    _decode_encoded, _decodable, _domain_seed, _encoded_pipeline, _epoch_indices,
                                    _file_loader, _files_pipeline, _gray_loader, _one_pass, _to_model_range,
                                    _toy_pipeline, TOY_RINGS, ToyRing, center_crop_resize, ring_modes, ring_set,
                                    toy_ring)
from data_sources.sources import _folder_images, _keep_classes, _load_digits_array, _load_gray_set  # noqa: E402
from data_sources.specs import (CELEBA_ATTRIBUTES, CELEBA_CROPS, COGAN_DATASETS, CYCLE_GAN_SETS,  # noqa: E402
                                DIGIT_CLASSES, DIGIT_TRANSFORMS, LABELLED_DATASETS, PRUNED_SVHN, SINGLE_DATASETS,
                                classifier_data_for, default_image_size, spec_for)
from data_sources.specs import resolve_attribute as _resolve_attribute  # noqa: E402
from data_sources.tfds_source import DOWNLOAD_HOST, _import_tfds, network_reachable  # noqa: E402
from data_sources.transforms import SPLIT_SEED, TRANSFORMS, edge, negative, rotate, split_halves  # noqa: E402

# Re-exported: the public names, and the private ones the tests reach through data.
__all__ = [
    "load_pair", "load_single", "load_labelled", "spec_for", "specs", "LoadRequest", "AUTOTUNE", "CELEBA_ATTRIBUTES",
    "CELEBA_CROPS", "COGAN_DATASETS", "CYCLE_GAN_SETS", "DIGIT_CLASSES", "DIGIT_TRANSFORMS", "DOWNLOAD_HOST",
    "DataError", "DataInfo", "EVAL_BATCH_SIZE", "IMAGE_EXTENSIONS", "LABELLED_DATASETS", "LabelledInfo",
    "PRUNED_SVHN", "SINGLE_DATASETS", "SPLIT_SEED", "TEST_FRACTION", "TFDS_SHUFFLE_BUFFER",
    "THESIS_CENTRAL_FRACTION", "TOY_MODES", "TOY_RADIUS", "TOY_STD", "TRANSFORMS", "center_crop_resize",
    "classifier_data_for", "default_image_size", "edge", "negative", "network_reachable", "read_celeba_attributes",
    "read_idx", "ring_modes", "ring_set", "rotate", "split_halves", "split_test", "TOY_RINGS", "ToyRing", "toy_ring",
    "_array_pipeline", "_celeba_manual", "_class_folders", "_decodable", "_decode_encoded", "_digit_arrays",
    "_domain_seed", "_encoded_pipeline", "_epoch_indices", "_file_loader", "_files_pipeline", "_find_idx",
    "_find_idx_file", "_folder_images", "_gray_loader", "_held_out", "_import_tfds", "_load_digits_array",
    "_load_gray_labelled", "_load_gray_set", "_one_pass", "_resolve_attribute", "_to_model_range", "_toy_pipeline"]

# Paired data (x and y of one example: pix2pix and the translation evaluation, issue 20 item 1).
from data_sources.paired import DERIVED_NAMES, DIRECTIONS, load_paired  # noqa: E402
__all__ += ["DERIVED_NAMES", "DIRECTIONS", "load_paired"]


def _unknown(name, kind, valid):
    return DataError(f"unknown {kind} dataset '{name}': choose one of {', '.join(valid)}")


def _check_batch(batch_size):
    if int(batch_size) < 1:
        raise DataError(f"batch size must be at least 1 (got {batch_size})")


def _request(name, image_size, spec, **kw):
    return LoadRequest(name=name or "", size=image_size or spec.image_size, **kw)


def _streams(low, req, arrays, seeds):
    """A loader's arrays ([N, H, W] or [N, H, W, 3] images) -> one stream per array (seeds[i]) and their DataInfo."""
    shape = (req.size, req.size, 3)
    streams = tuple(_array_pipeline(x, req.size, req.batch_size, s) for x, s in zip(arrays, seeds))
    return streams + (DataInfo(low, shape, tuple(len(x) for x in arrays)),)


def load_pair(name: str | None, *, batch_size: int, seed: int, domain_a: str | None = None,
              domain_b: str | None = None, data_dir: str | None = None, image_size: int | None = None,
              download: bool = True, prune_classifier=None, prune_threshold: float = 0.4,
              celeba_crop: str = "thesis"):
    """Two unpaired domains for a coupled GAN -> (dataset A, dataset B, DataInfo).

    `name` is one of COGAN_DATASETS (or a bare CelebA attribute, or any entry of specs.REGISTRY with a pair
    loader); with name=None, `domain_a` and `domain_b` are two local image folders. Any other name is a local
    pair folder <data_dir>/<name>/trainA|trainB. Derived pairs (digits/mnist 2 edge|negative|rotate) split the
    set 50/50 with a fixed permutation and transform the second half at native resolution (thesis sec. 5.2).
    `mnist2svhn_prune` needs `prune_classifier` (a Keras model, [-1, 1] images -> logits, e.g. the
    MNIST+SVHN classifier) and keeps the SVHN images whose top softmax exceeds `prune_threshold` (sec. 2.7).
    `celeba_crop` (CELEBA_CROPS) is how CelebA faces become square: "thesis" the authors' 0.7 central crop,
    "square" the largest central square; other sets ignore it (CycleGAN sets and folders: square crop).
    """
    _check_batch(batch_size)
    _check_crop(celeba_crop)
    if name and (domain_a or domain_b):
        raise DataError("give either a dataset name or two folders (--domain_a/--domain_b), not both")
    if not name and (not domain_a or not domain_b):
        raise DataError("give a dataset name (--cogan_data) or two image folders: --domain_a DIR --domain_b DIR")
    low = (name or "").strip().lower()
    spec = spec_for(low or name)   # a blank name: no entry's, nor the folders'
    req = _request(name, image_size, spec, batch_size=batch_size, seed=seed, data_dir=data_dir, download=download,
                   celeba_crop=celeba_crop, prune_classifier=prune_classifier, prune_threshold=prune_threshold,
                   domain_a=domain_a, domain_b=domain_b)
    out = specs.load_function(spec.pair or specs.LOCAL_PAIR)(low, req)
    if len(out) == 2:   # two arrays of images
        return _streams(low, req, out, (_domain_seed(seed, 0), _domain_seed(seed, 1)))
    return out


def load_single(name: str | None, *, batch_size: int, seed: int, domain_a: str | None = None,
                data_dir: str | None = None, image_size: int | None = None, download: bool = True,
                celeba_crop: str = "thesis", toy_ring: str = "authors", classes=None):
    """One domain for a single GAN -> (dataset, DataInfo): a name of SINGLE_DATASETS (or an entry of
    specs.REGISTRY with a single loader), or name=None and a folder `domain_a`. `toy` is a ring of Gaussians
    of thesis sec. 2.3.2, batches of shape (B, 2): `toy_ring` names which (TOY_RINGS: the authors' fixed set of
    5,120 points, or Metz et al.'s ring sampled afresh). `celeba_crop`: as load_pair (CelebA only).
    `classes` (issue 20 item 7; None: all): ids or names, comma-separated or a sequence (specs.class_ids): only the
    images of those classes, by the labels of the same source (the entry's `labels` loader); DataInfo.sizes counts
    what remains."""
    _check_batch(batch_size)
    _check_crop(celeba_crop)
    if name and domain_a:
        raise DataError("give either a dataset name (--dataset) or a folder (--domain_a), not both")
    if not name and not domain_a:
        raise DataError("give a dataset name (--dataset) or an image folder (--domain_a DIR)")
    low = (name or "").strip().lower()
    spec = spec_for(low or name)   # a blank name: no entry's, nor the folders'
    if spec.single is None:
        raise _unknown(name, "single-GAN", list(SINGLE_DATASETS) + ["or a folder with --domain_a"])
    req = _request(name, image_size, spec, batch_size=batch_size, seed=seed, data_dir=data_dir, download=download,
                   celeba_crop=celeba_crop, domain_a=domain_a, toy_ring=toy_ring)
    if classes is not None:
        ids = specs.class_ids(low, classes)   # DataError for data without labels, or an unknown class
        x, y = specs.load_function(spec.labels)(low, req)
        return _streams(low, req, (_keep_classes(low, x, y, ids),), (seed,))
    out = specs.load_function(spec.single)(low, req)
    if isinstance(out, np.ndarray):
        return _streams(low, req, (out,), (seed,))
    return out


def load_labelled(name: str | None, *, batch_size: int, seed: int, domain_a: str | None = None,
                  data_dir: str | None = None, image_size: int | None = None, download: bool = True,
                  celeba_crop: str = "thesis"):
    """Labelled images for the classifiers of thesis Appendix B -> (training batches, test batches, LabelledInfo).

    Training batches repeat forever, shuffled from `seed`: (images (B, S, S, 3) in [-1, 1], labels), the
    labels int32 class ids, or for CelebA float32 {0, 1} per attribute (multi-label, Table B.2: the 13
    attributes of classifiers.CELEBA_CLASSIFIER_ATTRIBUTES). Test batches go once over the held-out split in
    a fixed order: the set's own test split where it has one (tfds, or t10k idx files beside train ones),
    else a fixed TEST_FRACTION (split_test).

    name: digits (scikit-learn, offline), mnist, mnist_svhn (MNIST + SVHN mixed), celeba, a derived pair
    digits2*/mnist2* (both domains with their labels, so that one classifier judges both generators), or a
    coupled pair that maps onto one of them (mnist2svhn, celeba_<Attribute>: classifier_data_for).
    name=None: `domain_a` is a local folder with one subfolder of images per class.
    `celeba_crop` (CELEBA_CROPS): how the CelebA faces are cropped, as load_pair's, so that the semantic-loss
    classifier sees faces prepared like the generators'; recorded in LabelledInfo.crop. Other sets ignore it.
    """
    _check_batch(batch_size)
    _check_crop(celeba_crop)
    if name and domain_a:
        raise DataError("give either a dataset name (--dataset/--cogan_data) or a labelled folder (--domain_a), "
                        "not both")
    low = (name or "").strip().lower()
    spec = spec_for(low or name)   # a blank name: no entry's, nor the folders'
    if name and spec.labelled is None:
        if spec.pair is None or spec.key == "unregistered":
            raise _unknown(name, "labelled", list(LABELLED_DATASETS) + [
                "a coupled pair (mnist2svhn, celeba_Smiling, ...)", "or a folder of class subfolders with --domain_a"])
        low = classifier_data_for(low)
        spec = spec_for(low)
    req = _request(name, image_size, spec, batch_size=batch_size, seed=seed, data_dir=data_dir, download=download,
                   celeba_crop=celeba_crop, domain_a=domain_a)
    return specs.load_function(spec.labelled)(low, req)
