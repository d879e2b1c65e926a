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

import dataclasses
import os
import shutil
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("NO_GCE_CHECK", "true")

from config import ConfigError, parse_config  # noqa: E402
from run_folder import RunDirError, log_to_console, logger, prepare_run_dir  # noqa: E402
from data_sources import specs  # noqa: E402  (no TensorFlow)

log = logger("main").info


def _data_defaults(cfg):
    import data
    return data.default_image_size(cfg.dataset if cfg.gan_type == "gan" else cfg.cogan_data)


def with_classifier(cfg):
    """cfg, or a copy naming the classifier file that --semantic_loss or mnist2svhn_prune uses when no
    --classifier_path was given: trained once and cached (trainers.classifier.ensure_classifier). main.run saves
    the config after this, so a repeat or --resume reuses the same file."""
    from trainers.classifier import ensure_classifier, needs_classifier
    if not needs_classifier(cfg):
        return cfg
    import dataclasses
    import keras
    path = ensure_classifier(cfg)
    keras.utils.set_random_seed(cfg.seed)  # the same data and weights whether or not a classifier was trained
    return dataclasses.replace(cfg, classifier_path=path)


def load_data(cfg):
    """-> (list of datasets, one per domain; DataInfo). For --gan_type classifier: [training batches,
    test batches] and a data.LabelledInfo. mnist2svhn_prune reads cfg.classifier_path (see with_classifier)."""
    import data
    # celeba_crop: how CelebA faces are cropped (data.CELEBA_CROPS); the other sets ignore it.
    common = dict(batch_size=cfg.batch_size, seed=cfg.seed, data_dir=cfg.data_dir, download=cfg.download,
                  celeba_crop=cfg.celeba_crop)
    if cfg.gan_type == "classifier":
        train, test, info = data.load_labelled(cfg.dataset or cfg.cogan_data, domain_a=cfg.domain_a,
                                               image_size=cfg.image_size, **common)
        return [train, test], info
    if cfg.gan_type == "gan":
        ds, info = data.load_single(cfg.dataset, domain_a=cfg.domain_a, image_size=cfg.image_size,
                                    toy_ring=cfg.toy_ring, **common)
        return [ds], info
    prune = None
    if specs.uses_classifier(cfg.cogan_data):  # SVHN pruning (sec. 2.7)
        import classifiers
        cfg = with_classifier(cfg)
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


def _new_run_dir(cfg) -> str:
    """runs/<gan_type>_<data>_<time>, never an existing folder (a repeat in the same second gets a suffix)."""
    base = os.path.join("runs", f"{cfg.gan_type}_{cfg.data_name}_{time.strftime('%Y%m%d-%H%M%S')}")
    path, n = base, 1
    while os.path.lexists(path):
        n += 1
        path = f"{base}-{n}"
    return path


def _one_line(e, limit=300) -> str:
    text = " ".join(str(e).split()) or type(e).__name__
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _start_of_a_resume(cfg):
    """`--resume` on a folder that holds no run yet starts it there, so one command serves the first start and
    every requeue; a folder holding other files is not a run to continue nor one to fill. -> cfg as a start."""
    d = cfg.dir
    if os.path.exists(d) and (not os.path.isdir(d) or os.listdir(d)):
        raise RunDirError(f"nothing to resume: {d} holds no run (config.json missing) but is not empty; "
                          f"give an empty or new --dir")
    return dataclasses.replace(cfg, resume=False)


def _restore_for_resume(trainer, run_dir):
    """Check, before anything is written, that the run's checkpoint restores into the trainer these options build."""
    import tensorflow as tf
    try:
        return trainer.restore()
    except (ConfigError, RunDirError):  # already one line (e.g. no readable checkpoint)
        raise
    except (OSError, EOFError, tf.errors.OpError) as e:  # missing or damaged files, not other options
        raise RunDirError(f"the checkpoint in {run_dir} cannot be read ({_one_line(e)})") from None
    except Exception as e:  # shape mismatch (ValueError), unmatched variables (AssertionError), ...
        raise ConfigError(f"the checkpoint in {run_dir} does not match these options ({_one_line(e)}): resume "
                          f"without changing the architecture/sharing options") from None


def _strategy(cfg):
    """The tf.distribute strategy of --strategy / --cpu_replicas; the global batch must split evenly."""
    import devices
    try:
        strategy = devices.make_strategy(cfg.strategy, cfg.cpu_replicas)
    except (RuntimeError, ValueError) as e:
        raise ConfigError(_one_line(e)) from None
    replicas = strategy.num_replicas_in_sync
    if cfg.batch_size % replicas:
        raise ConfigError(f"--batch_size {cfg.batch_size} is the global batch: it must split evenly over the "
                          f"{replicas} replicas of --strategy {cfg.strategy}")
    if replicas > 1:
        log(f"--strategy {cfg.strategy}: {replicas} replicas, {cfg.batch_size // replicas} images each per batch")
    return strategy


def _seed(cfg):
    import keras
    keras.utils.set_random_seed(cfg.seed)  # before the data pipelines: their shuffles use the global seed
    if cfg.deterministic:
        import tensorflow as tf
        tf.config.experimental.enable_op_determinism()


def _run_worker(cfg, strategy):
    """A non-chief worker of --strategy multiworker: the same data order and steps as the chief (every collective
    needs every worker), its writes into a scratch folder deleted at the end; the chief alone writes the run
    folder. With --resume it restores the chief's latest checkpoint (a copy in the scratch folder; the chief
    writes none before the first step, which needs every worker), or starts from step 0 as the chief does."""
    import tempfile
    from trainers import get_trainer
    _seed(cfg)
    cfg = with_classifier(cfg)
    datasets, info = load_data(cfg)
    scratch = Path(tempfile.mkdtemp(prefix="coupled_gan_worker_"))
    try:
        run_dir = prepare_run_dir(scratch / "run", resume=False, overwrite=False)
        if cfg.resume and os.path.isdir(os.path.join(cfg.dir, "checkpoints")):
            shutil.copytree(os.path.join(cfg.dir, "checkpoints"), run_dir / "checkpoints")
        trainer = get_trainer(cfg.gan_type)(cfg, info, datasets, run_dir, strategy=strategy)
        trainer.fit()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return Path(cfg.dir)


def run(argv=None):
    from trainers import get_trainer
    cfg = parse_config(sys.argv[1:] if argv is None else argv, _data_defaults)
    strategy = _strategy(cfg)  # before any TensorFlow op: --cpu_replicas splits the CPU first
    import devices
    if not devices.is_chief(strategy):
        # Before looking at the folder: the chief may be writing it already (workers start seconds apart).
        return _run_worker(cfg, strategy)
    resuming = cfg.resume and os.path.isfile(os.path.join(cfg.dir, "config.json"))
    starting = cfg.resume and not resuming
    if starting:
        cfg = _start_of_a_resume(cfg)
    _seed(cfg)
    cfg = with_classifier(cfg)
    log(f"loading {cfg.data_name} ...")
    datasets, info = load_data(cfg)
    if info.skipped:
        log(f"warning: skipped {info.skipped} unreadable file(s) in the image folders")
    if cfg.dir is None:
        cfg = dataclasses.replace(cfg, dir=_new_run_dir(cfg))
    if resuming:
        # Everything a resume uses is checked before config.json is rewritten: a refused resume leaves the run
        # exactly as it was, so a plain `--resume` still continues it.
        run_dir = prepare_run_dir(cfg.dir, resume=True, overwrite=False)
        log("building the networks ...")
        trainer = get_trainer(cfg.gan_type)(cfg, info, datasets, run_dir, strategy=strategy)
        _restore_for_resume(trainer, run_dir)  # fit restores it again (trainers/loop.py): same state, no harm
        cfg.save(run_dir / "config.json")
    else:
        if starting:
            log(f"nothing to resume in {cfg.dir} yet: starting the run there")
        fresh = not os.path.exists(cfg.dir)
        run_dir = prepare_run_dir(cfg.dir, resume=False, overwrite=cfg.overwrite)
        try:
            cfg.save(run_dir / "config.json")
            log("building the networks ...")
            trainer = get_trainer(cfg.gan_type)(cfg, info, datasets, run_dir, strategy=strategy)
        except BaseException:
            # A run that never started leaves nothing behind to block (or be resumed by) the corrected command.
            if fresh:
                shutil.rmtree(run_dir, ignore_errors=True)
            elif starting:  # the folder was empty
                for p in run_dir.iterdir():
                    shutil.rmtree(p) if p.is_dir() else p.unlink()
            raise
    from run_folder import provenance, record_provenance
    where = cfg.strategy if cfg.strategy == "default" else f"{cfg.strategy}, {strategy.num_replicas_in_sync} replicas"
    record_provenance(run_dir, provenance(sys.argv[1:] if argv is None else argv, strategy=where))
    trainer.fit()
    import evaluation
    evaluation.evaluate_after_training(cfg, run_dir)
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
    log_to_console()
    try:
        _dispatch(argv)
    except (ConfigError, RunDirError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as e:
        # trainers.loop.TrainingInterrupted: a signal during training, checkpoint saved and the resume line
        # printed; 143 for SIGTERM / SIGUSR1 (what SLURM requeues expect), 130 for SIGINT.
        if not hasattr(e, "exit_status"):
            print("interrupted: continue with --resume from the last checkpoint", file=sys.stderr)
        return getattr(e, "exit_status", 130)
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
