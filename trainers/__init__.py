"""Trainers selected by `--gan_type`; each file holds only what its model does differently."""
from trainers.classifier import ClassifierTrainer
from trainers.cogan import CoGANTrainer
from trainers.gan import GANTrainer
from trainers.scogan import SCoGANTrainer

TRAINERS = {
    "gan": GANTrainer,
    "cogan": CoGANTrainer,
    "scogan": SCoGANTrainer,
    "classifier": ClassifierTrainer,   # thesis Appendix B, for SL (Eq. 4.2) and SVHN pruning (sec. 2.7)
}


def get_trainer(gan_type):
    try:
        return TRAINERS[gan_type]
    except KeyError:
        raise ValueError(f"unknown --gan_type '{gan_type}' (choose from {', '.join(TRAINERS)})") from None
