"""The loaders of the registry's entries (specs.py) for the digits, MNIST and Fashion-MNIST (idx files or tfds),
SVHN (whole, or pruned by a classifier, sec. 2.7), the derived pairs (sec. 5.2), the CycleGAN sets and local
image folders; each is called as loader(lower-case name, base.LoadRequest)."""
from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import tensorflow as tf

from data_sources.base import DataError, DataInfo
from data_sources.files import IMAGE_EXTENSIONS, _find_idx, _one_idx_split, read_idx
from data_sources.pipelines import (AUTOTUNE, EVAL_BATCH_SIZE, _array_pipeline, _decodable, _decoder, _domain_seed,
                                    _encoded_pipeline, _files_pipeline)
from data_sources.specs import COGAN_DATASETS, CYCLE_GAN_SETS, PRUNED_SVHN, class_names
from data_sources.tfds_source import _first_line, _import_tfds, _tfds_builder, _tfds_dataset, _tfds_encoded_images
from data_sources.transforms import TEST_FRACTION, TRANSFORMS, pair_halves

log = logging.getLogger("coupled_gan.data")  # run_folder.LOGGER: shown on stdout as every other note


def _load_digits_array():
    """scikit-learn's 1,797 real 8x8 digits (ships with the package: offline), float32 in [0, 1]."""
    from sklearn.datasets import load_digits
    return (load_digits().images / 16.0).astype(np.float32)



def _load_gray_set(kind, data_dir, download):
    """MNIST or Fashion-MNIST training images, uint8 [N, 28, 28]: idx files in data_dir, else tfds."""
    if data_dir:
        path, split = _find_idx(data_dir, kind)
        if path is not None:
            if split == "t10k":
                log.warning("note: %s holds only the %s test split: using its images", path.parent, kind)
            x = read_idx(path)
            if x.ndim != 3:
                raise DataError(f"{path} holds arrays of shape {x.shape[1:]}, not 2-D images")
            return x.astype(np.uint8)
    hint = (f"or put the idx files (train-images-idx3-ubyte.gz) in {Path(data_dir or '<data_dir>') / kind}")
    builder = _tfds_builder(kind, data_dir, download, hint)
    tfds = _import_tfds()
    try:
        batch = tfds.as_numpy(builder.as_dataset(split="train", batch_size=-1,
                                                 read_config=tfds.ReadConfig(try_autocache=False)))
    except Exception as e:
        raise DataError(f"tensorflow-datasets cannot read '{kind}' ({_first_line(e)}): rebuild it") from None
    return batch["image"][..., 0].astype(np.uint8)


def _keep_classes(name, x, y, ids):
    """--classes (issue 20 item 7): the images of x whose label in y is one of `ids`, in their order; the log says
    which classes and how many images remain."""
    keep = np.isin(np.asarray(y), ids)
    shown = ", ".join(k if n == k else f"{k} ({n})" for k, n in zip(map(str, ids), class_names(name, ids)))
    if not keep.any():
        raise DataError(f"--classes: none of the {len(x):,} {name} images has class {shown}: check the label file")
    log.warning("note: --classes %s: training on the %s of the %s %s images of %s", ",".join(map(str, ids)),
                f"{int(keep.sum()):,}", f"{len(x):,}", name, f"class {shown}" if len(ids) == 1 else f"classes {shown}")
    return x[keep]


def _folder_images(folder, what):
    """Image files under `folder` (recursive) that TF can decode -> (sorted paths, number skipped)."""
    if not folder:
        raise DataError(f"no folder given for {what}")
    root = Path(folder).expanduser()
    if not root.exists():
        raise DataError(f"{what} folder not found: {root} (check the path)")
    if not root.is_dir():
        raise DataError(f"{what} is not a folder: {root} (give a folder of images)")
    files = sorted(os.path.join(d, f) for d, _, names in os.walk(root, followlinks=True) for f in names
                   if f.lower().endswith(IMAGE_EXTENSIONS))
    if not files:
        raise DataError(f"no images ({', '.join(e[1:] for e in IMAGE_EXTENSIONS)}) found under {what} folder {root}")
    ok = _decodable(files)
    good = [f for f, k in zip(files, ok) if k]
    if not good:
        raise DataError(f"none of the {len(files)} image files under {root} can be read (corrupt or unsupported)")
    return good, len(files) - len(good)



def _local_pair_dirs(name, data_dir):
    if not data_dir:
        return None
    root = Path(data_dir).expanduser() / name
    if (root / "trainA").is_dir() and (root / "trainB").is_dir():
        return root / "trainA", root / "trainB"
    return None


def _folder_pair(dir_a, dir_b, name, size, batch_size, seed):
    a, skipped_a = _folder_images(dir_a, "domain A")
    b, skipped_b = _folder_images(dir_b, "domain B")
    info = DataInfo(name, (size, size, 3), (len(a), len(b)), skipped_a + skipped_b)
    return (_files_pipeline(a, size, batch_size, _domain_seed(seed, 0)),
            _files_pipeline(b, size, batch_size, _domain_seed(seed, 1)), info)



def _pruned_svhn(classifier, threshold, data_dir, download, size):
    """SVHN training images that the MNIST+SVHN classifier is confident about (thesis sec. 2.7: top softmax
    > threshold; the thesis kept 70,262 of 73,257 at 0.4) -> (encoded images, number kept).

    One streaming pass in file order scores every image and keeps only a bool mask; the training stream then
    filters the still-encoded images by position, so decoded SVHN is never held in memory.
    """
    import classifiers
    tfds = _import_tfds()
    builder = _tfds_builder("svhn_cropped", data_dir, download)
    skip = {"image": tfds.decode.SkipDecoding()}

    def in_file_order():  # both passes must see the same order: the mask is indexed by position
        return _tfds_dataset(builder, "train", None, shuffle_files=False, decoders=skip).map(lambda ex: ex["image"])

    decoded = in_file_order().map(_decoder(size), num_parallel_calls=AUTOTUNE).batch(EVAL_BATCH_SIZE)
    keep = classifiers.prune_by_confidence(classifier, decoded.prefetch(AUTOTUNE), threshold)
    kept = int(keep.sum())
    if kept == 0:
        raise DataError(f"pruning kept none of the {len(keep)} SVHN training images (top softmax > {threshold}): "
                        f"lower --prune_threshold or check the classifier")
    log.warning("note: pruned SVHN (thesis sec. 2.7): kept %d of %d training images (top softmax > %g)",
                kept, len(keep), threshold)
    mask = tf.constant(keep)
    return in_file_order().enumerate().filter(lambda i, b: tf.gather(mask, i)).map(lambda i, b: b), kept




# ---------------------------------------------------------------------------------------------- loaders
def _digits_pool(req):
    return _load_digits_array(), False


def _mnist_pool(req):
    x, one_split = _load_gray_set("mnist", req.data_dir, req.download), _one_idx_split(req.data_dir, "mnist")
    if one_split:
        log.warning("note: %s's domains leave out the fixed %d%% of the one MNIST split in %s that is held out "
                    "for evaluation", req.name.strip(), round(100 * TEST_FRACTION), Path(req.data_dir).expanduser())
    return x, not one_split


# A derived pair's source -> (its training images, whether it has a test split of its own: pair_halves).
DERIVED_SOURCES = {"digits": _digits_pool, "mnist": _mnist_pool}


def derived_pair(name, req):
    """digits|mnist 2 edge|negative|rotate: the set's training images split 50/50 with a fixed permutation, the
    second half transformed at native resolution (thesis sec. 5.2) -> the two domains' arrays. A source without a
    test split of its own (the digits, a one-split MNIST folder) leaves out the tenth load_paired holds out
    (transforms.pair_halves; review A2.3, review 11 H1)."""
    source, transform = name.split("2")
    x, own_test_split = DERIVED_SOURCES[source](req)
    ia, ib = pair_halves(len(x), own_test_split)
    return x[ia], TRANSFORMS[transform](x[ib])


def mnist_pair(name, req):
    """mnist2svhn, mnist2svhn_prune, mnist2fashion: different datasets need no split, each domain is its whole
    training set."""
    size, batch_size, seed = req.size, req.batch_size, req.seed
    if name == PRUNED_SVHN and req.prune_classifier is None:
        raise DataError(f"'{PRUNED_SVHN}' needs the MNIST+SVHN classifier that scores the SVHN images: give "
                        f"--classifier_path, or leave it out to train one")
    xa = _load_gray_set("mnist", req.data_dir, req.download)
    ds_a = _array_pipeline(xa, size, batch_size, _domain_seed(seed, 0))
    if name == "mnist2fashion":
        xb = _load_gray_set("fashion_mnist", req.data_dir, req.download)
        ds_b, n_b = _array_pipeline(xb, size, batch_size, _domain_seed(seed, 1)), len(xb)
    elif name == PRUNED_SVHN:
        enc, n_b = _pruned_svhn(req.prune_classifier, req.prune_threshold, req.data_dir, req.download, size)
        ds_b = _encoded_pipeline(enc, size, batch_size, _domain_seed(seed, 1))
    else:
        enc, n_b = _tfds_encoded_images("svhn_cropped", "train", req.data_dir, req.download, _domain_seed(seed, 1))
        ds_b = _encoded_pipeline(enc, size, batch_size, _domain_seed(seed, 1))
    return ds_a, ds_b, DataInfo(name, (size, size, 3), (len(xa), n_b))


def local_pair(name, req):
    """<data_dir>/<name>/trainA|trainB: always works, known name or not (datasets#5134); else the one-line error
    for an unknown pair."""
    local = _local_pair_dirs(req.name.strip(), req.data_dir)
    if local is not None:
        return _folder_pair(*local, name, req.size, req.batch_size, req.seed)
    valid = [n for n in COGAN_DATASETS if not n.startswith("celeba_")]
    raise DataError(f"unknown coupled dataset '{req.name}': choose one of {', '.join(valid[:8])}, "
                    f"celeba_<Attribute> (e.g. celeba_Smiling, any of the 40 CelebA attributes), "
                    f"{', '.join(CYCLE_GAN_SETS)}, or two folders with --domain_a/--domain_b")


def cycle_gan_pair(name, req):
    """A CycleGAN set: local <data_dir>/<name>/trainA|trainB first, else tfds `cycle_gan/<name>`."""
    if _local_pair_dirs(req.name.strip(), req.data_dir) is not None:
        return local_pair(name, req)
    out, sizes = [], []
    for i, split in enumerate(("trainA", "trainB")):
        enc, n = _tfds_encoded_images(f"cycle_gan/{name}", split, req.data_dir, req.download, _domain_seed(req.seed, i),
                                      hint=f"or put the images in {Path(req.data_dir or '<data_dir>') / name}"
                                           f"/trainA and trainB")
        out.append(_encoded_pipeline(enc, req.size, req.batch_size, _domain_seed(req.seed, i)))
        sizes.append(n)
    return out[0], out[1], DataInfo(name, (req.size, req.size, 3), tuple(sizes))


def folders_pair(name, req):
    """--domain_a DIR --domain_b DIR."""
    return _folder_pair(req.domain_a, req.domain_b, "folders", req.size, req.batch_size, req.seed)


def folder_single(name, req):
    files, skipped = _folder_images(req.domain_a, "the image")
    return (_files_pipeline(files, req.size, req.batch_size, req.seed),
            DataInfo("folder", (req.size, req.size, 3), (len(files),), skipped))


def digits_single(name, req):
    return _load_digits_array()


def gray_single(name, req):
    """mnist, fashion_mnist."""
    return _load_gray_set(name, req.data_dir, req.download)


def svhn_single(name, req):
    enc, n = _tfds_encoded_images("svhn_cropped", "train", req.data_dir, req.download, req.seed)
    return _encoded_pipeline(enc, req.size, req.batch_size, req.seed), DataInfo("svhn", (req.size, req.size, 3), (n,))
