"""tensorflow-datasets: prepared builders (or a one-line DataError, at once when offline), seeded streams of
still-encoded images."""
from __future__ import annotations

import os

# tfds probes Google Cloud Storage even for local data and can stall for minutes offline (datasets#2400).
os.environ.setdefault("NO_GCE_CHECK", "true")

from data_sources.base import DataError  # noqa: E402


def _import_tfds():
    try:
        import tensorflow_datasets as tfds
    except ImportError as e:
        raise DataError(f"tensorflow-datasets is not installed ({e}): pip install tensorflow-datasets") from None
    try:  # private switch (datasets#2839): never probe GCS for dataset info
        tfds.core.utils.gcs_utils._is_gcs_disabled = True
    except AttributeError:
        pass
    return tfds


def _tfds_dir(data_dir):
    return data_dir or os.environ.get("TFDS_DATA_DIR") or os.path.join("~", "tensorflow_datasets")


def _first_line(e):
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0]}" if text else type(e).__name__


# Where tfds and keras.applications download from: probed once before a download, so that an offline machine
# gets its one-line answer in seconds instead of minutes of retries.
DOWNLOAD_HOST = "storage.googleapis.com"


def network_reachable(host=DOWNLOAD_HOST, port=443, timeout=3.0) -> bool:
    import socket
    try:
        socket.create_connection((host, port), timeout=timeout).close()
        return True
    except OSError:
        return False


def _tfds_builder(name, data_dir, download, hint=""):
    """A prepared tfds builder for `name` (e.g. 'mnist', 'cycle_gan/apple2orange'), or a one-line DataError."""
    tfds = _import_tfds()
    where = _tfds_dir(data_dir)
    build = f"run `tfds build {name} --data_dir {where}` on a machine with internet (e.g. a login node)"
    hint = f"; {hint}" if hint else ""
    try:
        builder = tfds.builder(name, data_dir=data_dir)
        prepared = builder.is_prepared()
    except Exception as e:  # tfds raises many kinds; none may escape as a traceback
        raise DataError(f"tensorflow-datasets cannot open '{name}' ({_first_line(e)}){hint}") from None
    if prepared:
        return builder
    if not download:
        raise DataError(f"'{name}' is not prepared in {where} and downloading is off: {build}{hint}")
    if not network_reachable():
        raise DataError(f"'{name}' is not prepared in {where} and this machine is offline ({DOWNLOAD_HOST} "
                        f"unreachable): {build}, then pass --data_dir{hint}")
    try:
        builder.download_and_prepare()
    except Exception as e:
        if isinstance(e, ImportError) and e.name:  # tfds 4.9.10 downloads need `importlib_resources`
            raise DataError(f"tensorflow-datasets needs the module '{e.name}' to download '{name}': "
                            f"pip install {e.name}, or {build}{hint}") from None
        raise DataError(f"could not download '{name}' into {where} ({_first_line(e)}): {build}{hint}") from None
    return builder


def _tfds_dataset(builder, split, seed, shuffle_files=True, **kw):
    tfds = _import_tfds()
    # try_autocache off: an in-memory cache would be written into every iterator checkpoint.
    read_config = tfds.ReadConfig(shuffle_seed=seed, try_autocache=False)
    try:
        return builder.as_dataset(split=split, shuffle_files=shuffle_files, read_config=read_config, **kw)
    except Exception as e:
        raise DataError(f"tensorflow-datasets cannot read split '{split}' of '{builder.name}' "
                        f"({_first_line(e)}): rebuild it with `tfds build`") from None


def _tfds_encoded_images(name, split, data_dir, download, seed, hint=""):
    """-> (dataset of encoded image bytes, number of examples); images are decoded after the shuffle."""
    tfds = _import_tfds()
    builder = _tfds_builder(name, data_dir, download, hint)
    ds = _tfds_dataset(builder, split, seed, decoders={"image": tfds.decode.SkipDecoding()})
    return ds.map(lambda ex: ex["image"]), _split_size(builder, split)


def _split_size(builder, split):
    """Examples in a split or a sum of splits ('train+validation+test'), from the prepared dataset info."""
    try:
        return sum(int(builder.info.splits[part].num_examples) for part in split.split("+"))
    except Exception as e:
        raise DataError(f"tensorflow-datasets has no split '{split}' in '{builder.name}' ({_first_line(e)})") \
            from None


def _tfds_labelled(name, split, data_dir, download, seed, label, hint="", shuffle_files=True):
    """-> (dataset of (encoded image, label(example)), examples); images are decoded after the shuffle."""
    tfds = _import_tfds()
    builder = _tfds_builder(name, data_dir, download, hint)
    ds = _tfds_dataset(builder, split, seed, shuffle_files=shuffle_files,
                       decoders={"image": tfds.decode.SkipDecoding()})
    return ds.map(lambda ex: (ex["image"], label(ex))), _split_size(builder, split)
