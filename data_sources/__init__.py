"""The data behind data.py (its public entry point), one concern per module:

    specs.py        the registry: one DataSpec per dataset family answers every question about a data name
                    (loader, domain names, image size, classes, thesis pair count, classifier set and defaults,
                    training settings, offline demo). No TensorFlow: config.py and `main.py --help` use it.
    base.py         DataError, DataInfo, LabelledInfo, LoadRequest (no TensorFlow)
    transforms.py   the derived second domains (edge, negative, rotate) and the fixed 50/50 split (NumPy)
    files.py        idx files, CelebA's attribute file, image folders
    pipelines.py    tf.data pipelines: decoding, crops, seeded epochs, batches; the toy ring
    tfds_source.py  tensorflow-datasets: builders, offline answers, encoded streams
    sources.py      the loaders of the entries: digits, MNIST, Fashion-MNIST, SVHN (pruned), CycleGAN, folders
    celeba.py       CelebA (manual layout and tfds): attribute pairs, all faces, the 13-attribute labelled set
    labelled.py     the labelled sets of the Appendix B classifiers

This file imports nothing, so that `from data_sources import specs` stays free of TensorFlow.
"""
