"""The soft-coupling terms of SCoGAN (Juul-Nyholm & Alminde 2020, chapter 4), one small function each.

Every term is an unweighted scalar R that depends on *both* generators; the trainer multiplies it by its
weight a and adds it once to the summed generator objective, so that each generator feels a * dR/dG_i
(thesis sec. 6.6; see PITFALLS "Coupling terms and effective weights").

Where an equation and the authors' listing (ch. 6) disagree, the listing is the default: it produced the
published numbers and the published weights were tuned with it. The equation's form is an option.
- FR (Listing 6.10): the SUM over the K compared maps of mean((h1 - h2)^2); Eq. 4.1's 1/K is `reduce="mean"`.
- SL (Listing 6.15): mean over batch and classes of the squared difference; Eq. 4.2's sum over classes / 2
  (num_classes / 2 times that: 5x for 10 classes) is `form="equation"`.
- CC (Listing 6.16): "l1", the mean absolute error per domain, summed over the two domains; Eq. 4.3's
  squared L2 norm (sum over the latent dimensions, mean over the batch) is "l2".
- PL (Listings 6.17, 6.18): Gram matrices divided by H*W; content = plain mean of the squared difference;
  style = sum over the style layers of the mean squared Gram difference, divided by the number of layers
  (the listing's weight / num_style_layers). Eq. 4.5's form (Gram / (H*W*C), style as the squared Frobenius
  norm per image, summed over the layers) is `form="equation"`.
"""
from __future__ import annotations

import os
from typing import Sequence

import keras
import tensorflow as tf

VGG_MIN_SIZE = 32  # keras.applications.VGG19 rejects smaller inputs (five 2x2 poolings)
# ImageNet channel means of keras' "caffe" preprocessing, in BGR order.
VGG_BGR_MEANS = (103.939, 116.779, 123.68)
VGG_CONTENT_LAYER = "block5_conv2"
VGG_STYLE_LAYERS = ("block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1", "block5_conv1")


def _f32(x):
    return tf.cast(x, tf.float32)


# ---------------------------------------------------------------- Eq. 4.1 feature regulariser

def feature_regulariser(features_1: Sequence, features_2: Sequence, num_layers: int, reduce: str = "sum"):
    """FR: sum_{k<K} mean((h1_k - h2_k)^2) over the first K = num_layers maps of the lists (Listing 6.10, the
    default: alpha_FR = 10 / 100 were tuned with the sum); reduce="mean" divides by K as Eq. 4.1 writes.

    features_i: lists of feature maps of G_i in the order they are compared (the trainer picks them with
    nets.fr_map_indices), equal shapes between the domains.
    """
    n = len(features_1)
    if len(features_2) != n:
        raise ValueError(f"feature lists differ in length: {n} vs {len(features_2)}")
    k = int(num_layers)
    if not 1 <= k <= n:
        raise ValueError(f"num_layers must be in 1..{n} (the maps given), got {num_layers}")
    if reduce not in ("sum", "mean"):
        raise ValueError(f"reduce must be 'sum' (Listing 6.10) or 'mean' (Eq. 4.1), got {reduce!r}")
    terms = []
    for i, (a, b) in enumerate(zip(features_1[:k], features_2[:k])):
        a, b = _f32(a), _f32(b)
        if a.shape != b.shape:
            raise ValueError(f"feature map {i} differs in shape between the generators: {a.shape} vs {b.shape}")
        terms.append(tf.reduce_mean(tf.math.squared_difference(a, b)))
    total = tf.add_n(terms)
    return total / float(k) if reduce == "mean" else total


# ---------------------------------------------------------------- Eq. 4.2 semantic loss

def classifier_probabilities(logits, multilabel: bool):
    """Class probabilities from a classifier's logits: sigmoid per attribute (multi-label) or softmax."""
    logits = _f32(logits)
    return tf.sigmoid(logits) if multilabel else tf.nn.softmax(logits, axis=-1)


def semantic_loss(outputs_1, outputs_2, form: str = "listing"):
    """SL: squared difference of C(G1(z)) and C(G2(z)), probabilities of shape (B, classes).

    listing (default, Listing 6.15): the mean over the batch AND the classes; alpha_SL = 10 was tuned with it.
    equation (Eq. 4.2): the sum over the classes / 2, averaged over the batch -- classes / 2 times the mean
    (5x for 10 digits, 6.5x for the 13 CelebA attributes); with alpha 10 the sum over classes collapsed both
    generators onto one digit in our runs (benchmarks/RESULTS.md, "SL class agreement")."""
    outputs_1, outputs_2 = _f32(outputs_1), _f32(outputs_2)
    if outputs_1.shape != outputs_2.shape:
        raise ValueError(f"classifier outputs differ in shape: {outputs_1.shape} vs {outputs_2.shape}")
    sq = tf.math.squared_difference(outputs_1, outputs_2)
    if form == "listing":
        return tf.reduce_mean(sq)
    if form == "equation":
        return tf.reduce_mean(tf.reduce_sum(sq, axis=-1)) / 2.0
    raise ValueError(f"form must be 'listing' (Listing 6.15) or 'equation' (Eq. 4.2), got {form!r}")


# ---------------------------------------------------------------- Eq. 4.3 latent cycle consistency

def cycle_consistency(z, z_rec_1, z_rec_2, norm: str = "l1"):
    """CC: err(z, F(G1(z))) + err(z, F(G2(z))), z and reconstructions of shape (B, dim).

    norm "l1" (default, Listing 6.16): mean |z - z_rec| over batch and latent dimensions. norm "l2" (Eq. 4.3):
    the squared L2 norm ||F(G(z)) - z||_2^2, summed over the latent dimensions and averaged over the batch
    (the expectation over z) -- about dim (100) times the size of a mean squared error.
    """
    z = _f32(z)
    if norm == "l1":
        err = lambda r: tf.reduce_mean(tf.abs(z - _f32(r)))  # noqa: E731
    elif norm == "l2":
        err = lambda r: tf.reduce_mean(tf.reduce_sum(tf.square(z - _f32(r)), axis=-1))  # noqa: E731
    else:
        raise ValueError(f"norm must be 'l1' or 'l2', got {norm!r}")
    return err(z_rec_1) + err(z_rec_2)


# ---------------------------------------------------------------- Eq. 4.5 perceptual loss (VGG19)

def vgg_preprocess(images):
    """[-1, 1] RGB (or grayscale, repeated to 3 channels) -> keras "caffe" VGG input: 0..255, BGR, minus
    the ImageNet means. Requires H, W >= 32."""
    images = _f32(images)
    if images.shape.rank != 4 or images.shape[-1] not in (1, 3):
        raise ValueError(f"expected images of shape (B, H, W, 1 or 3), got {images.shape}")
    h, w = images.shape[1], images.shape[2]
    if h is not None and w is not None and (h < VGG_MIN_SIZE or w < VGG_MIN_SIZE):
        raise ValueError(f"VGG19 needs images of at least {VGG_MIN_SIZE}x{VGG_MIN_SIZE}, got {h}x{w}")
    if images.shape[-1] == 1:
        images = tf.repeat(images, 3, axis=-1)
    pixels = (images + 1.0) * 127.5
    return pixels[..., ::-1] - tf.constant(VGG_BGR_MEANS, tf.float32)


def build_vgg19_features(weights="imagenet", content_layer: str = VGG_CONTENT_LAYER,
                         style_layers: Sequence[str] = VGG_STYLE_LAYERS):
    """Frozen VGG19 (no top) mapping preprocessed images (any size >= 32) to {layer name: features}.

    weights: "imagenet" (keras.applications; needs the file in ~/.keras/models when offline), None or "none"
    (random init, for tests), or a path to a local .h5 / .weights.h5 file of VGG19 without its top.
    """
    names = list(dict.fromkeys([content_layer, *style_layers]))  # a layer may be both content and style
    if isinstance(weights, str) and weights.lower() == "none":  # the CLI's spelling of random init
        weights = None
    if isinstance(weights, (str, os.PathLike)) and str(weights) != "imagenet":
        path = os.path.expanduser(str(weights))
        if not os.path.isfile(path):
            raise ValueError(f"VGG19 weights file not found: {path}")
        vgg = keras.applications.VGG19(include_top=False, weights=None)
        try:
            vgg.load_weights(path)
        except Exception as e:  # wrong file or format: one line instead of an h5py trace
            raise ValueError(f"could not load VGG19 (no top) weights from {path}: {e}") from None
    elif weights is None or weights == "imagenet":
        try:
            vgg = keras.applications.VGG19(include_top=False, weights=weights)
        except Exception:
            raise ValueError("could not load the VGG19 ImageNet weights (offline?): pre-place "
                             "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5 in ~/.keras/models or pass "
                             "--vgg_weights PATH|none") from None
    else:
        raise ValueError(f"weights must be 'imagenet', None or a file path, got {weights!r}")
    missing = [n for n in names if n not in {layer.name for layer in vgg.layers}]
    if missing:
        raise ValueError(f"VGG19 has no layer(s) {missing}")
    model = keras.Model(vgg.input, {n: vgg.get_layer(n).output for n in names}, name="vgg19_features")
    # Frozen: the perceptual loss judges the generators, it must never train VGG (and a frozen model has
    # no trainable variables, so it never enters an optimizer's variable list).
    model.trainable = False
    return model


PL_FORMS = ("listing", "equation")


def gram_matrix(features, form: str = "listing"):
    """Gram matrix G[b, c, d] = sum_{i,j} F[b,i,j,c] F[b,i,j,d] / N for features (B, H, W, C) -> (B, C, C).

    N = H * W as Listing 6.17 (`num_locations`; the default: beta_PL = 1e-11 was chosen with it), or H * W * C
    as Eq. 4.5 writes (form="equation")."""
    features = _f32(features)
    shape = tf.shape(features)
    size = shape[1] * shape[2] * (shape[3] if form == "equation" else 1)
    return tf.einsum("bijc,bijd->bcd", features, features) / tf.cast(size, tf.float32)


def vgg_content_and_grams(vgg_features, images, content_layer: str = VGG_CONTENT_LAYER,
                          style_layers: Sequence[str] = VGG_STYLE_LAYERS, form: str = "listing"):
    """Run images in [-1, 1] through a `build_vgg19_features` model: -> (content features, [Gram per style
    layer]). Batch several image sets together to make one VGG call."""
    out = vgg_features(vgg_preprocess(images), training=False)
    return out[content_layer], [gram_matrix(out[n], form) for n in style_layers]


def perceptual_content(feat_1, feat_2):
    """Content part of PL (FRL of Eq. 4.5): mean((phi(G1(z)) - phi(G2(z)))^2) over batch, H, W and C on one VGG
    layer, pairs by z. The listing (6.18) and the equation (||.||^2 / (H*W*C)) agree on this one."""
    return tf.reduce_mean(tf.math.squared_difference(_f32(feat_1), _f32(feat_2)))


def perceptual_style(grams_fake: Sequence, grams_real: Sequence, form: str = "listing"):
    """Style part of PL (SRL of Eq. 4.5) over L style layers.

    listing (6.18, default): sum_l mean_{b,c,d}((Gram_l(fake_b) - Gram_l(real_b))^2) / L -- the listing's
    weight / num_style_layers. equation (Eq. 4.5, per layer j; summed over the layers as Johnson et al.): the
    squared Frobenius norm per image, sum_{c,d}, averaged over the batch, summed over the layers. As the authors'
    code, the b-th generated image is compared with the b-th (unrelated) real image of its own domain."""
    if len(grams_fake) != len(grams_real) or not grams_fake:
        raise ValueError(f"need the same non-zero number of style layers, got {len(grams_fake)} and "
                         f"{len(grams_real)}")
    if form not in PL_FORMS:
        raise ValueError(f"form must be one of {PL_FORMS}, got {form!r}")
    for f, r in zip(grams_fake, grams_real):
        if f.shape[0] is not None and r.shape[0] is not None and f.shape[0] != r.shape[0]:
            raise ValueError(f"fake and real batches must be equally large, got {f.shape[0]} and {r.shape[0]}")
    terms = []
    for f, r in zip(grams_fake, grams_real):
        sq = tf.math.squared_difference(_f32(f), _f32(r))
        terms.append(tf.reduce_mean(sq) if form == "listing" else tf.reduce_mean(tf.reduce_sum(sq, axis=[1, 2])))
    return tf.add_n(terms) / len(terms) if form == "listing" else tf.add_n(terms)


def perceptual_terms(vgg_features, fakes: Sequence, reals: Sequence, content_weight: float, style_weight: float,
                     form: str = "listing", content_layer: str = VGG_CONTENT_LAYER,
                     style_layers: Sequence[str] = VGG_STYLE_LAYERS) -> dict:
    """PL of Eq. 4.5 as Listing 6.18 adds it to the two generator losses, weighted:
    {"pl_content": alpha * FRL(G1(z), G2(z)), "pl_style_1": beta * SRL(G1(z), x1), "pl_style_2": beta * SRL(G2(z), x2)}.

    The content term enters once (the listing adds it to both generators' losses, each differentiated for its
    own generator: the same gradient as adding it once to the summed objective). One VGG call over all images.
    """
    n = tf.shape(fakes[0])[0]
    sizes = [n, n, tf.shape(reals[0])[0], tf.shape(reals[1])[0]]
    content, grams = vgg_content_and_grams(vgg_features, tf.concat(list(fakes) + list(reals), axis=0),
                                           content_layer, style_layers, form)
    c = tf.split(content, sizes)
    g = [tf.split(gm, sizes) for gm in grams]
    terms = {"pl_content": content_weight * perceptual_content(c[0], c[1])}
    for i in range(2):
        terms[f"pl_style_{i + 1}"] = style_weight * perceptual_style([gl[i] for gl in g], [gl[2 + i] for gl in g],
                                                                     form)
    return terms


# ---------------------------------------------------------------- weight similarity (Fig. 4.1)

def weight_difference(model_1, model_2):
    """Fig. 4.1's weight difference as the authors' code computed it (GeneratorPenalties.weight_regularizer):
    the sum over corresponding trainable variables (matched by order) of mean((w1 - w2)^2). Shared variables
    contribute 0, so for CoGAN it measures the unshared layers."""
    vars_1 = list(getattr(model_1, "trainable_variables", model_1))
    vars_2 = list(getattr(model_2, "trainable_variables", model_2))
    if len(vars_1) != len(vars_2) or not vars_1:
        raise ValueError(f"models must have the same non-zero number of trainable variables, got "
                         f"{len(vars_1)} and {len(vars_2)}")
    for i, (a, b) in enumerate(zip(vars_1, vars_2)):
        if tuple(a.shape) != tuple(b.shape):
            raise ValueError(f"trainable variable {i} differs in shape: {tuple(a.shape)} vs {tuple(b.shape)}")
    return tf.add_n([tf.reduce_mean(tf.math.squared_difference(_f32(a), _f32(b))) for a, b in zip(vars_1, vars_2)])


def weight_difference_by_block(generator_1, generator_2) -> list:
    """[(shared, weight_difference of block k)] for each block of two BlockNets: where Fig. 4.1's sum comes from.
    A CoGAN's shared blocks are the same objects and give 0, so its curve is the drift of its unshared blocks
    only; comparing an SCoGAN's on those same blocks is the like-for-like reading (results/mnist2edge_4k)."""
    blocks_1, blocks_2 = generator_1.blocks, generator_2.blocks
    if len(blocks_1) != len(blocks_2):
        raise ValueError(f"the generators have {len(blocks_1)} and {len(blocks_2)} blocks")
    return [(b1 is b2, float(weight_difference(b1, b2))) for b1, b2 in zip(blocks_1, blocks_2)]
