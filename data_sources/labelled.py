"""The labelled sets of the Appendix B classifiers (semantic loss, Eq. 4.2; SVHN pruning, sec. 2.7): digits and
MNIST (and their derived pairs, both domains labelled), MNIST + SVHN mixed, folders of class subfolders.
CelebA's 13-attribute set is in celeba.py."""
from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import tensorflow as tf

from data_sources.base import DataError, LabelledInfo
from data_sources.files import IMAGE_EXTENSIONS, _find_idx_file, read_idx
from data_sources.pipelines import (AUTOTUNE, EVAL_BATCH_SIZE, _array_pipeline, _decodable, _decoder,
                                    _encoded_examples, _epoch_indices, _file_loader, _files_pipeline, _gray_loader,
                                    _one_pass)
from data_sources.sources import _load_digits_array
from data_sources.specs import DIGIT_CLASSES
from data_sources.tfds_source import _first_line, _import_tfds, _tfds_builder, _tfds_labelled
# split_test, pair_halves and TEST_FRACTION live in transforms (sources needs them; labelled imports sources).
from data_sources.transforms import TEST_FRACTION, TRANSFORMS, pair_halves, split_test  # noqa: F401 (re-exported)

log = logging.getLogger("coupled_gan.data")  # run_folder.LOGGER: shown on stdout as every other note


def _load_gray_labelled(kind, data_dir, download, test_split=True):
    """MNIST-format images and labels -> (x_train, y_train, x_test, y_test): uint8 [N, 28, 28], int32 [N].
    idx files in data_dir (train-* and, if there, t10k-* as the test split), else tfds train / test.
    x_test is None when data_dir holds one split only: the caller holds out TEST_FRACTION of it.
    test_split=False (a single GAN's --classes): the training images of sources._load_gray_set only, no test split."""
    if data_dir:
        found = {}
        for split in ("train", "t10k"):
            images = _find_idx_file(data_dir, kind, split)
            if images is None:
                continue
            labels = _find_idx_file(data_dir, kind, split, "labels")
            if labels is None:
                raise DataError(f"{images} has no labels beside it: put {split}-labels-idx1-ubyte.gz in {images.parent}")
            x, y = read_idx(images), read_idx(labels)
            if x.ndim != 3 or y.ndim != 1 or len(x) != len(y):
                raise DataError(f"{images} and {labels} do not match ({x.shape} images, {y.shape} labels)")
            found[split] = (x.astype(np.uint8), y.astype(np.int32))
            if not test_split:   # the training images found: the test split is not asked for
                break
        if "train" in found:
            return found["train"] + found.get("t10k", (None, None))
        if found:
            held_out = (f"training on {round(100 * (1 - TEST_FRACTION))}% of it, testing on the rest" if test_split
                        else "using its images")
            log.warning("note: %s holds only the %s test split: %s", Path(data_dir).expanduser(), kind, held_out)
            return found["t10k"] + (None, None)
    hint = f"or put the idx files (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz) in " \
           f"{Path(data_dir or '<data_dir>') / kind}"
    builder = _tfds_builder(kind, data_dir, download, hint)
    tfds = _import_tfds()
    out = ()
    for split in ("train", "test") if test_split else ("train",):
        try:
            batch = tfds.as_numpy(builder.as_dataset(split=split, batch_size=-1,
                                                     read_config=tfds.ReadConfig(try_autocache=False)))
        except Exception as e:
            raise DataError(f"tensorflow-datasets cannot read '{kind}' ({_first_line(e)}): rebuild it") from None
        out += (batch["image"][..., 0].astype(np.uint8), batch["label"].astype(np.int32))
    return out if test_split else out + (None, None)


def _check_labels(y, num_classes, where):
    if len(y) and (y.min() < 0 or y.max() >= num_classes):
        raise DataError(f"{where} holds labels outside 0..{num_classes - 1}: use the original label files")


def _digit_arrays(name, data_dir, download):
    """Grayscale digit images with labels -> (x, y, x_test or None, y_test or None); a derived pair
    (digits2*/mnist2*) gives both its domains: domain A's half as is and domain B's half transformed, the
    same 50/50 split (pair_halves) and transforms as load_pair, labels unchanged; its test split is the held-out
    images as is + transformed: MNIST's t10k, else (the digits, a one-split MNIST folder) split_test's tenth,
    which pair_halves leaves out and load_paired holds out (review A2.3, review 11 H1)."""
    source, transform = (name.split("2") + [None])[:2]
    if source == "digits":
        from sklearn.datasets import load_digits
        x, y, xt, yt = _load_digits_array(), load_digits().target.astype(np.int32), None, None
    else:
        x, y, xt, yt = _load_gray_labelled("mnist", data_dir, download)
    _check_labels(y, 10, f"the {source} label file")
    if transform is not None:
        t = TRANSFORMS[transform]
        ia, ib = pair_halves(len(x), own_test_split=xt is not None)
        if xt is None:   # the tenth pair_halves leaves out: the held-out images of both domains
            held = split_test(len(x))[1]
            xt, yt = x[held], y[held]
        x, y = np.concatenate([x[ia], t(x[ib])]), np.concatenate([y[ia], y[ib]])
        xt, yt = np.concatenate([xt, t(xt)]), np.concatenate([yt, yt])
    return x, y, xt, yt


def _held_out(x, y, xt, yt):
    """Hold out TEST_FRACTION of (x, y) when there is no test split (xt None)."""
    if xt is not None:
        return x, y, xt, yt
    train, test = split_test(len(x))
    return x[train], y[train], x[test], y[test]



def _mnist_svhn(data_dir, download, size, batch_size, seed):
    """MNIST + SVHN digits, mixed per example in proportion to their sizes (the thesis's MNIST+SVHN
    classifier, sec. 2.7) -> (train, test, sizes). SVHN's images are RGB, MNIST's grayscale repeated."""
    x, y, xt, yt = _held_out(*_digit_arrays("mnist", data_dir, download))
    label = lambda ex: tf.cast(ex["label"], tf.int32)  # noqa: E731
    svhn, n_svhn = _tfds_labelled("svhn_cropped", "train", data_dir, download, seed, label)
    svhn_test, n_svhn_test = _tfds_labelled("svhn_cropped", "test", data_dir, download, seed, label,
                                            shuffle_files=False)
    # Per-example streams (no position-only checkpoint option: it would reject SVHN's shuffle buffer).
    mnist = _epoch_indices(len(x), seed).map(_gray_loader(x, size, y), num_parallel_calls=AUTOTUNE)
    weight = len(x) / (len(x) + n_svhn)
    mixed = tf.data.Dataset.sample_from_datasets([mnist, _encoded_examples(svhn, size, seed)],
                                                 weights=[weight, 1.0 - weight], seed=seed)
    train = mixed.batch(batch_size, drop_remainder=True).prefetch(AUTOTUNE)
    test = _one_pass(len(xt), _gray_loader(xt, size, yt), EVAL_BATCH_SIZE, batched_load=True).concatenate(
        svhn_test.map(_decoder(size), num_parallel_calls=AUTOTUNE).batch(EVAL_BATCH_SIZE))
    return train, test.prefetch(AUTOTUNE), (len(x) + n_svhn, len(xt) + n_svhn_test)



def _class_folders(folder):
    """A labelled local folder, one subfolder of images per class -> (paths, int32 labels, class names,
    unreadable files skipped). Images directly in the folder belong to no class and are ignored."""
    if not folder:
        raise DataError("no folder given: --domain_a DIR with one subfolder of images per class")
    root = Path(folder).expanduser()
    if not root.exists():
        raise DataError(f"labelled folder not found: {root} (check the path)")
    if not root.is_dir():
        raise DataError(f"{root} is not a folder: give a folder with one subfolder of images per class")
    classes = sorted(d.name for d in root.iterdir() if d.is_dir() and not d.name.startswith("."))
    if not classes:
        raise DataError(f"{root} has no class subfolders: a labelled folder holds one subfolder of images per "
                        f"class (e.g. {root / 'cat'}/*.png, {root / 'dog'}/*.png)")
    files, labels = [], []
    for k, c in enumerate(classes):
        found = sorted(os.path.join(d, f) for d, _, names in os.walk(root / c, followlinks=True) for f in names
                       if f.lower().endswith(IMAGE_EXTENSIONS))
        files += found
        labels += [k] * len(found)
    if not files:
        raise DataError(f"no images ({', '.join(e[1:] for e in IMAGE_EXTENSIONS)}) in the class subfolders of {root}")
    ok = _decodable(files)
    counts = np.bincount(np.asarray(labels)[ok], minlength=len(classes))
    if not counts.any():
        raise DataError(f"none of the {len(files)} image files under {root} can be read (corrupt or unsupported)")
    if (counts == 0).any():
        empty = classes[int(np.argmin(counts))]
        raise DataError(f"class folder {root / empty} holds no readable images: add some or remove it")
    if len(classes) < 2:
        raise DataError(f"{root} has one class subfolder ({classes[0]}): a classifier needs at least two")
    good = [f for f, k in zip(files, ok) if k]
    return good, np.asarray(labels, np.int32)[ok], tuple(classes), len(files) - len(good)




# ---------------------------------------------------------------------------------------------- loaders
def digits(name, req):
    """digits, mnist and the derived pairs digits2*/mnist2* (both domains with their labels)."""
    x, y, xt, yt = _held_out(*_digit_arrays(name, req.data_dir, req.download))
    return (_array_pipeline(x, req.size, req.batch_size, req.seed, labels=y),
            _one_pass(len(xt), _gray_loader(xt, req.size, yt), EVAL_BATCH_SIZE, batched_load=True),
            LabelledInfo(name, (req.size, req.size, 3), (len(x), len(xt)), DIGIT_CLASSES))


def digits_labels(name, req):
    """--classes of a single GAN on the digits: load_single's images with scikit-learn's targets."""
    return _digit_arrays(name, req.data_dir, req.download)[:2]


def gray_labels(name, req):
    """--classes of a single GAN on mnist / fashion_mnist: load_single's images with the labels read beside them
    (the idx label file of the same split, or tfds's labels)."""
    x, y = _load_gray_labelled(name, req.data_dir, req.download, test_split=False)[:2]
    _check_labels(y, 10, f"the {name} label file")
    return x, y


def mnist_svhn(name, req):
    train, test, sizes = _mnist_svhn(req.data_dir, req.download, req.size, req.batch_size, req.seed)
    return train, test, LabelledInfo(name, (req.size, req.size, 3), sizes, DIGIT_CLASSES)


def folder_labelled(name, req):
    """--domain_a DIR: one subfolder of images per class; a fixed TEST_FRACTION held out."""
    size = req.size
    paths, labels, classes, skipped = _class_folders(req.domain_a)
    train, test = split_test(len(paths))
    pick = lambda idx: [paths[i] for i in idx]  # noqa: E731
    info = LabelledInfo("folder", (size, size, 3), (len(train), len(test)), classes, False, skipped)
    return (_files_pipeline(pick(train), size, req.batch_size, req.seed, labels=labels[train]),
            _one_pass(len(test), _file_loader(pick(test), size, labels[test]), EVAL_BATCH_SIZE), info)
