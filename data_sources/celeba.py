"""CelebA: attribute pairs (thesis sec. 5.2-5.3), all faces for a single GAN, the 13-attribute labelled set of
Table B.2; from the manual layout (img_align_celeba/ + list_attr_celeba.txt in data_dir) or tfds `celeb_a`."""
from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import tensorflow as tf

from data_sources.base import DataError, DataInfo, LabelledInfo
from data_sources.files import IMAGE_EXTENSIONS, read_celeba_attributes
from data_sources.labelled import split_test
from data_sources.pipelines import (AUTOTUNE, EVAL_BATCH_SIZE, _decoder, _domain_seed, _encoded_pipeline,
                                    _file_loader, _files_pipeline, _one_pass)
from data_sources.specs import CELEBA_CROPS, resolve_attribute
from data_sources.tfds_source import (_import_tfds, _split_size, _tfds_builder, _tfds_dataset,
                                      _tfds_encoded_images, _tfds_labelled)

log = logging.getLogger("coupled_gan.data")  # run_folder.LOGGER: shown on stdout as every other note


def _celeba_manual(data_dir):
    """CelebA as manually downloaded, if present: (image paths, int8 attributes [N, 40], names) or None.

    Accepts <data_dir>[/celeba][/Anno]/list_attr_celeba.txt with images in img_align_celeba/ (or Img/...)
    or beside the attribute file; images are matched by stem, so .png copies of the .jpg files also work.
    """
    if not data_dir:
        return None
    base = Path(data_dir).expanduser()
    for root in (base, base / "celeba", base / "CelebA"):
        attr_file = next((p for p in (root / "list_attr_celeba.txt", root / "Anno" / "list_attr_celeba.txt")
                          if p.is_file()), None)
        if attr_file is None:
            continue
        files, names, attrs = read_celeba_attributes(attr_file)
        # The official zip unpacks to img_align_celeba/, sometimes nested once more.
        for img_dir in (root / "img_align_celeba", root / "img_align_celeba" / "img_align_celeba",
                        root / "Img" / "img_align_celeba", attr_file.parent):
            if not img_dir.is_dir():
                continue
            # Existence only: opening 202,599 files at start-up would take minutes.
            by_stem = {}
            with os.scandir(img_dir) as it:
                for entry in it:
                    stem, ext = os.path.splitext(entry.name)
                    if ext.lower() in IMAGE_EXTENSIONS:
                        by_stem[stem] = entry.path
            keep = [i for i, f in enumerate(files) if os.path.splitext(f)[0] in by_stem]
            if not keep:
                continue
            if len(keep) < len(files):
                log.warning("note: %d of the %d images named in %s are in %s: using those",
                            len(keep), len(files), attr_file, img_dir)
            paths = [by_stem[os.path.splitext(files[i])[0]] for i in keep]
            return paths, attrs[keep], names
        raise DataError(f"found {attr_file} but none of its images: put the images in {root / 'img_align_celeba'}")
    return None


_CELEBA_HINT = "or download img_align_celeba/ and list_attr_celeba.txt by hand into --data_dir"


def _check_crop(crop):
    if crop not in CELEBA_CROPS:
        raise DataError(f"unknown CelebA crop '{crop}': choose one of {', '.join(CELEBA_CROPS)}")
    return crop


def _celeba_domains(attribute, data_dir, download, size, batch_size, seed, crop):
    """Domain A = faces with the attribute (+1), B = without (-1) (thesis sec. 5.2) -> (dsA, dsB, sizes);
    faces cropped as `crop` (CELEBA_CROPS)."""
    manual = _celeba_manual(data_dir)
    if manual is not None:
        paths, attrs, names = manual
        if attribute not in names:
            raise DataError(f"attribute '{attribute}' is not a column of the CelebA attribute file")
        col = attrs[:, names.index(attribute)]
        domains = [[p for p, v in zip(paths, col) if v == want] for want in (1, -1)]
        sizes = tuple(len(d) for d in domains)
        _check_domains_nonempty(f"celeba_{attribute}", sizes)
        ds_a, ds_b = (_files_pipeline(d, size, batch_size, _domain_seed(seed, i), crop=crop)
                      for i, d in enumerate(domains))
        return ds_a, ds_b, sizes
    tfds = _import_tfds()
    builder = _tfds_builder("celeb_a", data_dir, download, _CELEBA_HINT)
    split = "train+validation+test"   # all 202,599 faces, as with the manual layout
    skip = {"image": tfds.decode.SkipDecoding()}
    # Counting needs one pass over the records (tfds keeps no per-attribute counts); images stay encoded.
    flags = _tfds_dataset(builder, split, seed, decoders=skip).map(lambda ex: ex["attributes"][attribute])
    n_pos = int(flags.reduce(tf.constant(0, tf.int64), lambda c, f: c + tf.cast(f, tf.int64)))
    n_all = _split_size(builder, split)
    sizes = (n_pos, n_all - n_pos)
    _check_domains_nonempty(f"celeba_{attribute}", sizes)
    out = []
    for i, want in enumerate((True, False)):
        ds = _tfds_dataset(builder, split, _domain_seed(seed, i), decoders=skip)
        ds = ds.filter(lambda ex, w=want: tf.equal(ex["attributes"][attribute], w)).map(lambda ex: ex["image"])
        out.append(_encoded_pipeline(ds, size, batch_size, _domain_seed(seed, i), crop))
    return out[0], out[1], sizes


def _celeba_all(data_dir, download, size, batch_size, seed, crop):
    manual = _celeba_manual(data_dir)
    if manual is not None:
        return _files_pipeline(manual[0], size, batch_size, seed, crop=crop), len(manual[0])
    ds, n = _tfds_encoded_images("celeb_a", "train+validation+test", data_dir, download, seed, _CELEBA_HINT)
    return _encoded_pipeline(ds, size, batch_size, seed, crop), n


def _check_domains_nonempty(name, sizes):
    for which, n in zip("AB", sizes):
        if n == 0:
            raise DataError(f"domain {which} of '{name}' has no images: choose another attribute or data_dir")



def _celeba_labelled(data_dir, download, size, batch_size, seed, crop):
    """Faces with the 13 attributes of Table B.2 as {0, 1} floats, cropped as `crop` (CELEBA_CROPS, the same
    as the generators' faces) -> (train, test, sizes). Manual layout: a fixed TEST_FRACTION held out; tfds:
    train+validation / test."""
    import classifiers  # the 13 attributes are the classifier's (Table B.2)
    attrs = classifiers.CELEBA_CLASSIFIER_ATTRIBUTES
    manual = _celeba_manual(data_dir)
    if manual is not None:
        paths, values, names = manual
        missing = [a for a in attrs if a not in names]
        if missing:
            raise DataError(f"the CelebA attribute file has no column {missing[0]}: use the original list_attr_celeba.txt")
        y = (values[:, [names.index(a) for a in attrs]] > 0).astype(np.float32)
        train, test = split_test(len(paths))
        pick = lambda idx: [paths[i] for i in idx]  # noqa: E731
        return (_files_pipeline(pick(train), size, batch_size, seed, labels=y[train], crop=crop),
                _one_pass(len(test), _file_loader(pick(test), size, y[test], crop), EVAL_BATCH_SIZE),
                (len(train), len(test)))
    label = lambda ex: tf.cast(tf.stack([ex["attributes"][a] for a in attrs]), tf.float32)  # noqa: E731
    train, n = _tfds_labelled("celeb_a", "train+validation", data_dir, download, seed, label, _CELEBA_HINT)
    test, n_test = _tfds_labelled("celeb_a", "test", data_dir, download, seed, label, _CELEBA_HINT,
                                  shuffle_files=False)
    test = test.map(_decoder(size, crop), num_parallel_calls=AUTOTUNE).batch(EVAL_BATCH_SIZE).prefetch(AUTOTUNE)
    return _encoded_pipeline(train, size, batch_size, seed, crop), test, (n, n_test)



# ---------------------------------------------------------------------------------------------- loaders
def celeba_pair(name, req):
    """`celeba_<Attribute>` or a bare attribute: faces with / without it."""
    attribute = resolve_attribute(name)
    ds_a, ds_b, sizes = _celeba_domains(attribute, req.data_dir, req.download, req.size, req.batch_size, req.seed,
                                        req.celeba_crop)
    return ds_a, ds_b, DataInfo(f"celeba_{attribute}", (req.size, req.size, 3), sizes)


def celeba_single(name, req):
    ds, n = _celeba_all(req.data_dir, req.download, req.size, req.batch_size, req.seed, req.celeba_crop)
    return ds, DataInfo("celeba", (req.size, req.size, 3), (n,))


def celeba_labelled(name, req):
    import classifiers
    train, test, sizes = _celeba_labelled(req.data_dir, req.download, req.size, req.batch_size, req.seed,
                                          req.celeba_crop)
    return train, test, LabelledInfo(name, (req.size, req.size, 3), sizes,
                                     tuple(classifiers.CELEBA_CLASSIFIER_ATTRIBUTES), True, crop=req.celeba_crop)
