"""`--gan_type classifier`: the classifiers of thesis Appendix B (Table B.1 for digits, softmax over classes;
Table B.2 for CelebA, one sigmoid per attribute) trained on labelled data, for the semantic loss (Eq. 4.2)
and SVHN pruning (sec. 2.7); and the cached classifier that SL / pruning train for themselves when no
`--classifier_path` is given (`ensure_classifier`, called from main.load_data).

A classifier run folder holds config.json, losses.csv (loss and batch accuracy per step), losses.png,
checkpoints/ (step, weights, Adam state, data iterator: `--resume` continues), metrics.json (test accuracy,
per attribute for CelebA) and classifier.keras + classifier.keras.json (classifiers.save_classifier).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import keras
import tensorflow as tf

import classifiers
import config
import data
import run_folder
from data_sources import specs
from data_sources.transforms import PAIR_SPLIT_VERSION
from trainers.loop import TrainingLoop

CLASSIFIER_FILE = "classifier.keras"
log = run_folder.logger("classifier").info


class _DropMessagesWith:
    """A logging filter dropping the records whose message contains `text`."""

    def __init__(self, text):
        self.text = text

    def filter(self, record):
        return self.text not in record.getMessage()
METRICS_FILE = "metrics.json"


def _table(multilabel):
    return "Table B.2" if multilabel else "Table B.1"


def _metrics(info, steps, accuracy, per_attribute, test_images):
    m = {"data": info.name, "steps": int(steps), "test_accuracy": accuracy, "test_images": int(test_images),
         "train_images": int(info.sizes[0]), "multilabel": bool(info.multilabel), "names": list(info.names)}
    if per_attribute is not None:
        m["per_attribute_accuracy"] = {n: float(a) for n, a in zip(info.names, per_attribute)}
    if getattr(info, "crop", None):
        m["celeba_crop"] = info.crop   # how the faces were cropped (data.CELEBA_CROPS)
    return m


def _accuracy_line(m):
    what = f"mean over {len(m['names'])} attributes, " if m["multilabel"] else ""
    return (f"classifier test accuracy {m['test_accuracy']:.4f} ({what}{m['test_images']} held-out images of "
            f"{m['data']}, {m['steps']} steps)")


class ClassifierTrainer(TrainingLoop):
    """Trains one Appendix B classifier on the shared loop (trainers/loop.py: logs, checkpoints, signals,
    non-finite values and failed writes as for the GANs); same constructor as the GAN trainers.

    `datasets` = [training batches (infinite), test batches (one pass)] and `info` a data.LabelledInfo, as
    main.load_data gives them for --gan_type classifier.
    """

    def __init__(self, cfg, info, datasets, run_dir=None, strategy=None):
        # One device: config refuses --strategy / --cpu_replicas for --gan_type classifier (small nets).
        self.cfg, self.info = cfg, info
        self.train_ds, self.test_ds = datasets
        self.run_dir = Path(run_dir) if run_dir else None
        keras.utils.set_random_seed(cfg.seed)
        self.model = classifiers.build_classifier(info.shape, info.names, info.multilabel)
        self.optimizer = keras.optimizers.Adam(learning_rate=classifiers.LEARNING_RATE)
        self.optimizer.build(self.model.trainable_variables)  # before any restore (keras#19389)
        self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
        self.iterator = iter(self.train_ds)
        self.skip_nonfinite = cfg.nonfinite == "skip"
        self._train_step = classifiers.make_train_step(self.model, self.optimizer, info.multilabel,
                                                       skip_nonfinite=self.skip_nonfinite)
        # Keras 3 models are not in tf.train.Checkpoint's graph: track every variable (dropout seeds too).
        self._init_checkpoints(tf.train.Checkpoint(step=self.step, optimizer=self.optimizer, it=self.iterator,
                                                   vars=[v.value for v in self.model.variables]),
                               keep=cfg.keep_checkpoints)

    def evaluate(self):
        """Test accuracy on the held-out split -> the metrics dict written to metrics.json."""
        acc, per_attribute, n = classifiers.classifier_accuracies(self.model, self.test_ds, self.info.multilabel)
        return _metrics(self.info, int(self.step.numpy()), acc, per_attribute, n)

    # ------------------------------------------------------------------ the loop's hooks (trainers/loop.py)
    def describe(self, first):
        samples = self.run_dir / "samples"
        if samples.is_dir() and not any(samples.iterdir()):
            samples.rmdir()  # prepare_run_dir makes it for GAN samples; a classifier draws none
        return (f"training the {_table(self.info.multilabel)} classifier on {self.info.name} "
                f"({self.info.sizes[0]} training / {self.info.sizes[1]} test images, {self.info.shape}, "
                f"{len(self.info.names)} {'attributes' if self.info.multilabel else 'classes'}) "
                f"from step {first} to {self.cfg.iterations} in {self.run_dir}")

    def next_inputs(self):
        return next(self.iterator)

    def run_step(self, inputs):
        logs = self._train_step(*inputs)
        self.step.assign_add(1)
        return logs

    def checked_variables(self):
        return list(self.model.trainable_variables)

    def finish(self, step, trained):
        if not trained and (self.run_dir / CLASSIFIER_FILE).is_file():
            return None
        metrics = self.evaluate()
        run_folder.write_json(self.run_dir / METRICS_FILE, metrics)
        with run_folder.writing(self.run_dir / CLASSIFIER_FILE):
            path = classifiers.save_classifier(self.model, self.run_dir / CLASSIFIER_FILE,
                                               multilabel=self.info.multilabel, names=self.info.names,
                                               extra=metrics)
        log(_accuracy_line(metrics))
        log(f"saved {path} (use it with --semantic_loss --classifier_path {path})")
        return metrics


# ---------------------------------------------------------------- the classifier SL and pruning train for themselves

def cache_dir() -> Path:
    """$COUPLED_GAN_CACHE/classifiers, default ~/.cache/coupled_gan/classifiers."""
    root = os.environ.get("COUPLED_GAN_CACHE") or os.path.join("~", ".cache", "coupled_gan")
    return Path(root).expanduser() / "classifiers"


def needs_classifier(cfg) -> bool:
    """Whether the run uses a classifier: the semantic loss (Eq. 4.2) or SVHN pruning (sec. 2.7)."""
    return cfg.gan_type != "classifier" and bool(cfg.semantic_loss or specs.uses_classifier(cfg.cogan_data))


def cached_path(name, *, image_size, seed, steps, batch_size, data_dir=None, celeba_crop="thesis") -> Path:
    """Where the auto-trained classifier of labelled set `name` lives: one file per data, size, seed, steps
    and batch (and data_dir, since e.g. MNIST from a test-split-only folder differs from tfds MNIST; and for
    CelebA the crop, data.CELEBA_CROPS). `name` is the set actually trained (data.classifier_data_for), so a
    pair that changes its classifier (mnist2edge: its pair set, now standard MNIST) never reuses the old file.
    A derived pair's set (digits2rotate, mnist2negative, ...) also keys on its split's version (_split2:
    transforms.PAIR_SPLIT_VERSION; review 11 M1), so a file trained on images now held out is not reused."""
    key = f"{name}_{image_size}px_seed{seed}_steps{steps}_batch{batch_size}"
    if specs.spec_for(name).derived is not None:
        key += f"_split{PAIR_SPLIT_VERSION}"
    if name == "celeba":
        key += f"_{celeba_crop}crop"
    if data_dir:
        key += "_" + hashlib.sha1(str(Path(data_dir).expanduser().resolve()).encode()).hexdigest()[:8]
    return cache_dir() / f"{key}.keras"


def _is_complete(path: Path) -> bool:
    return path.is_file() and Path(str(path) + classifiers.META_SUFFIX).is_file()


def train_to(path, name, *, image_size, seed, steps, batch_size, data_dir=None, download=True,
             celeba_crop="thesis"):
    """Train the Appendix B classifier of labelled set `name` for `steps` and save it at `path` (.keras and
    its metadata, moved into place only when complete, so that a cache never holds half a file) -> metrics.

    It is the run `python main.py --gan_type classifier --dataset NAME --iterations STEPS --batch_size B --seed S
    --image_size SIZE` would make, on the same loop (trainers/loop.py), in a temporary run folder beside `path`."""
    import dataclasses
    path = Path(path)
    cfg = config.resolve(config.Config(gan_type="classifier", dataset=name, image_size=image_size, seed=seed,
                                       iterations=steps, batch_size=batch_size, data_dir=data_dir,
                                       download=download, celeba_crop=celeba_crop,
                                       log_interval=max(1, steps // 5), checkpoint_interval=steps,
                                       keep_checkpoints=1), lambda c: image_size)
    keras.utils.set_random_seed(seed)  # as main.run before the data pipelines
    train, test, info = data.load_labelled(name, batch_size=batch_size, seed=seed, data_dir=data_dir,
                                           image_size=image_size, download=download, celeba_crop=celeba_crop)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=path.parent))
    try:
        trainer = ClassifierTrainer(dataclasses.replace(cfg, dir=str(tmp)), info, [train, test], tmp)
        # The temporary folder's lines (opening, "saved", "done") would point at files about to move.
        hide = _DropMessagesWith(str(tmp))
        for name_ in ("training", "classifier"):
            run_folder.logger(name_).addFilter(hide)
        try:
            trainer.fit()
        finally:
            for name_ in ("training", "classifier"):
                run_folder.logger(name_).removeFilter(hide)
        metrics = json.loads((tmp / METRICS_FILE).read_text())
        saved = str(tmp / CLASSIFIER_FILE)
        os.replace(saved + classifiers.META_SUFFIX, str(path) + classifiers.META_SUFFIX)
        os.replace(saved, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return metrics


def check_fits(path, image_size):
    """A classifier judging generated images must take them: input (image_size, image_size, 3) (ConfigError)."""
    path = classifiers._keras_path(path)
    try:
        meta = json.loads(Path(path + classifiers.META_SUFFIX).read_text())
    except (OSError, ValueError) as e:
        raise config.ConfigError(f"cannot read the metadata of classifier {path} ({type(e).__name__}): save "
                                 f"classifiers with --gan_type classifier") from None
    want = [image_size, image_size, 3]
    if meta.get("input_shape") != want:
        raise config.ConfigError(f"classifier {path} takes images of shape {meta.get('input_shape')}, but this run "
                                 f"generates {want}: train one at --image_size {image_size}")


def ensure_classifier(cfg):
    """The classifier file SL / pruning use -> path (None if the run needs none).

    --classifier_path wins. Otherwise the classifier of the pair (data.classifier_data_for: standard MNIST /
    digits for the edge pairs, both domains of a negative / rotate pair, MNIST+SVHN, or the 13 CelebA
    attributes on faces cropped as cfg.celeba_crop) is trained once for cfg.classifier_steps (default
    config.CLASSIFIER_ITERATIONS) at the pair's image size and cached (cached_path, keyed on the set trained);
    later runs with the same data, size, seed and steps (and crop) reuse it. Pairs without shared labels raise
    data.DataError.
    """
    if not needs_classifier(cfg):
        return cfg.classifier_path
    if cfg.classifier_path:
        check_fits(cfg.classifier_path, cfg.image_size)
        return cfg.classifier_path
    name = data.classifier_data_for(cfg.cogan_data)
    default_steps, batch_size = config.classifier_defaults(name)
    steps = cfg.classifier_steps or default_steps
    crop = getattr(cfg, "celeba_crop", "thesis")
    path = cached_path(name, image_size=cfg.image_size, seed=cfg.seed, steps=steps, batch_size=batch_size,
                       data_dir=cfg.data_dir, celeba_crop=crop)
    table = _table(name == "celeba")
    if _is_complete(path):
        log(f"no --classifier_path: using the cached {table} classifier of {name} ({steps} steps) at {path}")
        return str(path)
    log(f"no --classifier_path: training a {table} classifier on {name} for {steps} steps; cached at {path}")
    train_to(path, name, image_size=cfg.image_size, seed=cfg.seed, steps=steps, batch_size=batch_size,
             data_dir=cfg.data_dir, download=cfg.download, celeba_crop=crop)
    return str(path)
