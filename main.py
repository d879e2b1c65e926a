"""Command line: argparse -> config -> data -> nets -> trainer.

    python main.py                                   # offline demo: CoGAN on digits2edge, a few minutes on CPU
    python main.py --gan_type cogan --cogan_data mnist2edge
    python main.py --gan_type gan --dataset toy --disc_iters 5
    python main.py --dir runs/x --resume --iterations 5000
    python main.py --sample runs/x --num 1000 --out pairs.npz [--latent_walk]
    python main.py --experiment scogan_mnist2svhn_slfr    # a named thesis experiment (--list_experiments)
    python main.py --report runs/a runs/b --out report.md  # compare runs' LPIPS tables

Bad input prints one line and exits with status 2.
"""
from __future__ import annotations

import os
import shutil
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("NO_GCE_CHECK", "true")

from config import ConfigError, parse_config  # noqa: E402
from outputs import RunDirError, prepare_run_dir  # noqa: E402

def _data_defaults(cfg):
    import data
    return data.default_image_size(cfg.dataset if cfg.gan_type == "gan" else cfg.cogan_data)


def load_data(cfg, log=print):
    """-> (list of datasets, one per domain; DataInfo). For --gan_type classifier: [training batches,
    test batches] and a data.LabelledInfo.

    A run with --semantic_loss or mnist2svhn_prune and no --classifier_path first gets its classifier here
    (trained once and cached, trainers.classifier.ensure_classifier), and cfg.classifier_path records it:
    main.run saves config.json after this call, so a repeat or --resume reuses the same file.
    """
    import data
    # celeba_crop: how CelebA faces are cropped (data.CELEBA_CROPS); the other sets ignore it.
    common = dict(batch_size=cfg.batch_size, seed=cfg.seed, data_dir=cfg.data_dir, download=cfg.download,
                  celeba_crop=cfg.celeba_crop)
    if cfg.gan_type == "classifier":
        train, test, info = data.load_labelled(cfg.dataset or cfg.cogan_data, domain_a=cfg.domain_a,
                                               image_size=cfg.image_size, **common)
        return [train, test], info
    if cfg.gan_type == "gan":
        ds, info = data.load_single(cfg.dataset, domain_a=cfg.domain_a, image_size=cfg.image_size, **common)
        return [ds], info
    from trainers.classifier import ensure_classifier, needs_classifier
    prune = None
    if needs_classifier(cfg):
        import classifiers
        import keras
        cfg.classifier_path = ensure_classifier(cfg, log=lambda m: log(m, flush=True) if log is print else log(m))
        keras.utils.set_random_seed(cfg.seed)  # the same data and weights whether or not a classifier was trained
        if (cfg.cogan_data or "").strip().lower() == data.PRUNED_SVHN:
            try:
                prune, meta = classifiers.load_classifier(cfg.classifier_path)
            except ValueError as e:
                raise data.DataError(str(e)) from None
            if meta["multilabel"]:
                raise data.DataError(f"{cfg.classifier_path} is a multi-label classifier: pruning SVHN needs the "
                                     f"MNIST+SVHN digit classifier (softmax)")
    a, b, info = data.load_pair(cfg.cogan_data, domain_a=cfg.domain_a, domain_b=cfg.domain_b,
                                image_size=cfg.image_size, prune_classifier=prune,
                                prune_threshold=cfg.prune_threshold, **common)
    return [a, b], info


def run(argv=None, log=print):
    from trainers import get_trainer, TRAINERS
    cfg = parse_config(sys.argv[1:] if argv is None else argv, TRAINERS, _data_defaults)
    import keras
    keras.utils.set_random_seed(cfg.seed)  # before the data pipelines: their shuffles use the global seed
    if cfg.deterministic:
        import tensorflow as tf
        tf.config.experimental.enable_op_determinism()
    datasets, info = load_data(cfg)
    if info.skipped:
        log(f"warning: skipped {info.skipped} unreadable file(s) in the image folders")
    if cfg.dir is None:
        cfg.dir = os.path.join("runs", f"{cfg.gan_type}_{cfg.data_name}_{time.strftime('%Y%m%d-%H%M%S')}")
    fresh = not os.path.exists(cfg.dir)
    run_dir = prepare_run_dir(cfg.dir, resume=cfg.resume, overwrite=cfg.overwrite)
    try:
        cfg.save(run_dir / "config.json")
        trainer = get_trainer(cfg.gan_type)(cfg, info, datasets, run_dir)
    except BaseException:
        if fresh:  # a run that never started leaves no folder behind to block the corrected command
            shutil.rmtree(run_dir, ignore_errors=True)
        raise
    trainer.fit(log=lambda m: log(m, flush=True) if log is print else log(m))
    import evaluation
    evaluation.evaluate_after_training(cfg, run_dir, log=lambda m: log(m, flush=True) if log is print else log(m))
    return run_dir


def _dispatch(argv):
    if "--list_experiments" in argv:
        import experiments
        print("\n".join(experiments.list_lines()))
    elif "--report" in argv:
        import report
        report.report_main(argv)
    elif "--evaluate" in argv:
        import evaluation
        evaluation.evaluate_main(argv)
    elif "--sample" in argv:
        import sampling
        sampling.sample_main(argv)
    else:
        run(argv)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    try:
        _dispatch(argv)
    except (ConfigError, RunDirError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: continue with --resume from the last checkpoint", file=sys.stderr)
        return 130
    except Exception as e:
        # data.DataError, without importing data (and TensorFlow) for the modes that need neither.
        data = sys.modules.get("data")
        if data is not None and isinstance(e, data.DataError):
            print(f"error: {e}", file=sys.stderr)
            return 2
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
