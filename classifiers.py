"""Auxiliary networks of SCoGAN: the classifiers of thesis Appendix B (for the semantic loss, Eq. 4.2, and
for pruning, sec. 2.7) and the latent encoder F of the cycle consistency (Eq. 4.3), with training,
evaluation, pruning and save/load helpers.

Architectures follow the thesis prototype (github.com/MarkusHald/SCoGAN, Code/Nets.py): Tables B.1 and B.2
are the same layer stack, at 32x32 (digits, softmax over classes) and 128x128 (CelebA, one sigmoid per
attribute). Here every classifier returns logits; `regularisers.classifier_probabilities` turns them into
the probabilities that Eq. 4.2 compares. Images are in [-1, 1], like the generators' outputs.
"""
from __future__ import annotations

import json
import os
from typing import Sequence

import keras
import numpy as np
import tensorflow as tf
from keras import layers

import run_folder

log = run_folder.logger("classifier").info

# The prototype used tf.keras' LeakyReLU() default, whose slope is 0.3 (Keras 3 keeps 0.3); spelled out so a
# change of library default cannot silently change the nets.
CLASSIFIER_LEAKY_SLOPE = 0.3
ENCODER_LEAKY_SLOPE = 0.2

# The 13 CelebA attributes with at least 50,000 positives among the 202,599 images (thesis sec. 5.3), in
# list_attr_celeba.txt column order. Source: the prototype's classifier data loader (Code/Data.py,
# load_celeba_data_classifier). Checked against a 20,000-row sample: these are the 13 most frequent there,
# each above 50,000 / 202,599 = 24.7 %, while the next (Black_Hair, Big_Lips, Big_Nose) lie just below.
CELEBA_CLASSIFIER_ATTRIBUTES = (
    "Arched_Eyebrows", "Attractive", "Heavy_Makeup", "High_Cheekbones", "Male", "Mouth_Slightly_Open",
    "No_Beard", "Oval_Face", "Pointy_Nose", "Smiling", "Wavy_Hair", "Wearing_Lipstick", "Young",
)

META_SUFFIX = ".json"
_META_KIND = "scogan-classifier"
# Adam at Keras' default rate, as the prototype compiled its classifiers.
LEARNING_RATE = 1e-3


# ---------------------------------------------------------------- architectures

def _appendix_b_classifier(input_shape, outputs, name):
    # Table B.1 / B.2: conv3x3(32) - LReLU - conv3x3(64) - LReLU - maxpool2 - dropout .25 - flatten -
    # dense(128) - LReLU - dropout .5 - dense(outputs). Convolutions are "valid" (the Keras default the
    # prototype used), so 32 -> 30 -> 28 -> 14 and 128 -> 126 -> 124 -> 62.
    inputs = keras.Input(shape=tuple(input_shape), name="image")
    x = layers.Conv2D(32, 3, name="conv1")(inputs)
    x = layers.LeakyReLU(negative_slope=CLASSIFIER_LEAKY_SLOPE)(x)
    x = layers.Conv2D(64, 3, name="conv2")(x)
    x = layers.LeakyReLU(negative_slope=CLASSIFIER_LEAKY_SLOPE)(x)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Dropout(0.25)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(128, name="fc1")(x)
    x = layers.LeakyReLU(negative_slope=CLASSIFIER_LEAKY_SLOPE)(x)
    x = layers.Dropout(0.5)(x)
    logits = layers.Dense(outputs, name="logits")(x)
    return keras.Model(inputs, logits, name=name)


def digit_classifier(input_shape=(32, 32, 3), num_classes=10, name="digit_classifier") -> keras.Model:
    """Thesis Table B.1 (MNIST / SVHN / Fashion digits): logits over `num_classes` (softmax outside)."""
    return _appendix_b_classifier(input_shape, num_classes, name)


def celeba_classifier(input_shape=(128, 128, 3), num_labels=len(CELEBA_CLASSIFIER_ATTRIBUTES),
                      name="celeba_classifier") -> keras.Model:
    """Thesis Table B.2 (CelebA attributes): one logit per attribute, multi-label (sigmoid outside)."""
    return _appendix_b_classifier(input_shape, num_labels, name)


def build_classifier(input_shape, names, multilabel: bool) -> keras.Model:
    """The Appendix B classifier for labelled data: Table B.2 (one logit per attribute) when multi-label,
    else Table B.1 (one logit per class); one output per name."""
    if multilabel:
        return celeba_classifier(input_shape, num_labels=len(names))
    return digit_classifier(input_shape, num_classes=len(names))


def latent_encoder(input_shape, latent_dim, name="latent_encoder", output_activation=None) -> keras.Model:
    """Encoder F: image -> z of the latent cycle consistency (Eq. 4.3), as in the prototype's `encoder`.

    conv3x3(64) - conv3x3/2(128) - conv3x3/2(128) - conv3x3/2(256), each LReLU(0.2), "same" padding;
    flatten - dropout .4 - dense(latent_dim). The output is linear like the prototype's (z ~ U[-1, 1]^d is
    reached without saturating); pass output_activation="tanh" to bound it. The prototype called F without
    a training flag, i.e. in inference mode, so its Dropout never acted: call with training=False to match.
    """
    inputs = keras.Input(shape=tuple(input_shape), name="image")
    x = inputs
    for i, (filters, stride) in enumerate(((64, 1), (128, 2), (128, 2), (256, 2))):
        x = layers.Conv2D(filters, 3, strides=stride, padding="same", name=f"conv{i + 1}")(x)
        x = layers.LeakyReLU(negative_slope=ENCODER_LEAKY_SLOPE)(x)
    x = layers.Flatten()(x)
    x = layers.Dropout(0.4)(x)
    z = layers.Dense(latent_dim, activation=output_activation, name="z")(x)
    return keras.Model(inputs, z, name=name)


# ---------------------------------------------------------------- training and evaluation

def _loss_fn(multilabel):
    if multilabel:
        return lambda y, logits: tf.reduce_mean(
            tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.cast(y, tf.float32), logits=logits))
    return lambda y, logits: tf.reduce_mean(
        tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.cast(tf.reshape(y, [-1]), tf.int32),
                                                       logits=logits))


def _correct(labels, logits, multilabel):
    """Per-element correctness: (B,) for single-label (exact class), (B, attributes) for multi-label."""
    logits = tf.cast(logits, tf.float32)
    if multilabel:
        return tf.equal(logits > 0.0, tf.cast(labels, tf.float32) > 0.5)
    labels = tf.cast(tf.reshape(labels, [-1]), tf.int64)  # class ids, (B,) or (B, 1)
    return tf.equal(tf.argmax(logits, axis=-1, output_type=tf.int64), labels)


def make_train_step(model, optimizer, multilabel, skip_nonfinite=False):
    """-> a compiled step (images, labels) -> {"loss", "batch_accuracy"}: one Adam update of `model` on softmax
    cross-entropy over class ids, or sigmoid cross-entropy per attribute on {0, 1} labels (multi-label).
    skip_nonfinite (--nonfinite skip): an update with a NaN/inf loss or gradient is not applied, and
    "skipped_updates" (0 or 1) is returned too."""
    from optimisers import SKIPPED_KEY, apply_if_finite
    loss_fn = _loss_fn(multilabel)
    variables = model.trainable_variables

    @tf.function
    def step(images, labels):
        with tf.GradientTape() as tape:
            logits = tf.cast(model(tf.cast(images, tf.float32), training=True), tf.float32)
            loss = loss_fn(labels, logits)
        skipped = apply_if_finite(optimizer, tape.gradient(loss, variables), variables, [loss], skip_nonfinite)
        accuracy = tf.reduce_mean(tf.cast(_correct(labels, logits, multilabel), tf.float32))
        out = {"loss": loss, "batch_accuracy": accuracy}
        if skip_nonfinite:
            out[SKIPPED_KEY] = skipped
        return out

    return step


def train_classifier(model, train_ds, *, steps, multilabel, learning_rate=LEARNING_RATE, eval_ds=None,
                     log_every=100) -> dict:
    """Train with Adam on batches of (images in [-1, 1], labels): int class ids (softmax cross-entropy) or
    {0, 1} multi-hot floats (sigmoid cross-entropy per attribute). The dataset is repeated as needed.

    Returns {"train_loss": mean loss over the last `log_every` steps, "accuracy": accuracy on eval_ds if given,
    else the training batches' accuracy over those same steps}.
    """
    steps = int(steps)
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    optimizer = keras.optimizers.Adam(learning_rate=learning_rate)
    optimizer.build(model.trainable_variables)
    step = make_train_step(model, optimizer, multilabel)

    window = max(1, min(int(log_every), steps))
    losses, accs = [], []
    iterator = iter(train_ds.repeat())
    for i in range(1, steps + 1):
        images, labels = next(iterator)
        out = step(images, labels)
        losses.append(float(out["loss"]))
        accs.append(float(out["batch_accuracy"]))
        losses, accs = losses[-window:], accs[-window:]
        if log_every and (i % int(log_every) == 0 or i == steps):
            log(f"classifier step {i}/{steps}: loss {np.mean(losses):.4f}, batch accuracy {np.mean(accs):.4f}")
    result = {"train_loss": float(np.mean(losses)), "accuracy": float(np.mean(accs))}
    if eval_ds is not None:
        result["accuracy"] = evaluate_classifier(model, eval_ds, multilabel)
        log(f"classifier eval accuracy {result['accuracy']:.4f}")
    return result


def evaluate_classifier(model, ds, multilabel, max_batches=None) -> float:
    """Accuracy over a dataset of (images, labels) batches: exact class for single-label; for multi-label
    the mean over attributes (and images) of thresholded-sigmoid agreement."""
    return classifier_accuracies(model, ds, multilabel, max_batches)[0]


def classifier_accuracies(model, ds, multilabel, max_batches=None):
    """-> (accuracy as evaluate_classifier, per-attribute accuracies [attributes] for multi-label else None,
    number of images)."""
    predict = tf.function(lambda x: model(tf.cast(x, tf.float32), training=False))
    correct, images_seen = 0.0, 0
    for i, (images, labels) in enumerate(ds):
        if max_batches is not None and i >= max_batches:
            break
        hits = _correct(labels, predict(images), multilabel).numpy()  # one host sync per batch, not per image
        correct = correct + hits.sum(axis=0)
        images_seen += hits.shape[0]
    if images_seen == 0:
        raise ValueError("evaluate_classifier got an empty dataset")
    per_output = np.asarray(correct, np.float64) / images_seen
    if multilabel:
        return float(per_output.mean()), per_output, images_seen
    return float(per_output), None, images_seen


# ---------------------------------------------------------------- pruning (thesis sec. 2.7)

def prune_by_confidence(classifier, images, threshold=0.4, batch_size=256) -> np.ndarray:
    """Keep-mask of images whose top softmax probability under `classifier` (logits) exceeds `threshold`.

    images: an array (N, H, W, C), or a tf.data.Dataset of images or (images, labels), batched or not.
    """
    if isinstance(images, tf.data.Dataset):
        spec = images.element_spec
        if isinstance(spec, (tuple, list)):
            images = images.map(lambda *xs: xs[0])
            spec = spec[0]
        if len(classifier.input_shape) == len(spec.shape) + 1:  # unbatched elements
            images = images.batch(batch_size)
        batches = images
    else:
        array = np.asarray(images, np.float32)
        batches = (array[i:i + batch_size] for i in range(0, len(array), batch_size))
    predict = tf.function(lambda x: tf.reduce_max(
        tf.nn.softmax(tf.cast(classifier(tf.cast(x, tf.float32), training=False), tf.float32), axis=-1), axis=-1))
    confidence = [predict(b).numpy() for b in batches]
    if not confidence:
        return np.zeros((0,), bool)
    return np.concatenate(confidence) > threshold


# ---------------------------------------------------------------- saving and loading

def _keras_path(path):
    path = os.fspath(path)
    # Keras 3 saves whole models only as ".keras" zip files.
    return path if path.endswith(".keras") else path + ".keras"


def save_classifier(model, path, *, multilabel: bool, names: Sequence[str] | None = None,
                    extra: dict | None = None) -> str:
    """Write `model` to PATH(.keras) and its metadata (multilabel flag, class/attribute names, input shape,
    `extra` such as an accuracy) to PATH(.keras).json. Returns the .keras path."""
    path = _keras_path(path)
    num_outputs = int(model.output_shape[-1])
    if names is not None and len(names) != num_outputs:
        raise ValueError(f"{len(names)} names for a classifier with {num_outputs} outputs")
    meta = {
        "kind": _META_KIND,
        "multilabel": bool(multilabel),
        "names": list(names) if names is not None else None,
        "num_outputs": num_outputs,
        "input_shape": [int(d) for d in model.input_shape[1:]],
        "extra": dict(extra or {}),
    }
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    # Atomically, the model before its metadata: a kill leaves the old pair or an incomplete one (no .json),
    # never a truncated .keras under its name (issue 22, item 6).
    with run_folder.atomic_output(path) as tmp:
        model.save(str(tmp))
    run_folder.atomic_write_text(path + META_SUFFIX, json.dumps(meta, indent=2))
    return path


def load_classifier(path, trainable=False):
    """-> (model, meta) as written by `save_classifier`. The model comes back frozen by default, since the
    semantic loss and pruning use it as a fixed judge. Missing or unreadable files raise ValueError."""
    path = _keras_path(path)
    meta_path = path + META_SUFFIX
    if not os.path.isfile(path):
        raise ValueError(f"classifier file not found: {path} (train one first, or check --classifier_path)")
    if not os.path.isfile(meta_path):
        raise ValueError(f"classifier metadata not found: {meta_path} (save classifiers with save_classifier)")
    try:
        with open(meta_path) as f:
            meta = json.load(f)
        if meta.get("kind") != _META_KIND:
            raise ValueError(f"not a classifier metadata file (kind {meta.get('kind')!r})")
    except (OSError, ValueError) as e:
        raise ValueError(f"unreadable classifier metadata {meta_path}: {e}") from None
    try:
        model = keras.saving.load_model(path, compile=False)
    except Exception as e:  # a truncated zip or a foreign file: one line, not Keras' trace
        raise ValueError(f"unreadable classifier file {path}: {type(e).__name__}: {e}".splitlines()[0]) from None
    model.trainable = bool(trainable)
    return model, meta
