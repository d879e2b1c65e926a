"""Trainers selected by `--gan_type`; each file holds only what its model does differently.

The registry names each trainer's module and class and imports it on demand, so that the command line
(`--help`, a wrong option) answers before TensorFlow is imported.
"""
import importlib

TRAINERS = {
    "gan": "trainers.gan:GANTrainer",
    "cogan": "trainers.cogan:CoGANTrainer",
    "scogan": "trainers.scogan:SCoGANTrainer",
    "classifier": "trainers.classifier:ClassifierTrainer",  # thesis Appendix B, for SL (Eq. 4.2) and pruning (sec. 2.7)
    "pix2pix": "trainers.pix2pix:Pix2PixTrainer",  # Isola et al. 2017, paired data (issue 20 item 2)
    "cyclegan": "trainers.cyclegan:CycleGANTrainer",  # Zhu et al. 2017, unpaired data (issue 20 item 3)
    "unit": "trainers.unit:UNITTrainer",  # Liu, Breuel & Kautz 2017, unpaired data (issue 20 item 4)
}


def get_trainer(gan_type):
    try:
        module, name = TRAINERS[gan_type].split(":")
    except KeyError:
        raise ValueError(f"unknown --gan_type '{gan_type}' (choose from {', '.join(TRAINERS)})") from None
    return getattr(importlib.import_module(module), name)
