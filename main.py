"""Command line: argparse -> config -> data -> nets -> trainer.

    python main.py                                   # offline demo: CoGAN on digits2edge, a few minutes on CPU
    python main.py --gan_type cogan --cogan_data mnist2edge
    python main.py --gan_type gan --dataset toy --disc_iters 5
    python main.py --dir runs/x --resume --iterations 5000
    python main.py --sample runs/x --num 1000 --out pairs.npz [--latent_walk]
    python main.py --experiment scogan_mnist2svhn_slfr    # a named thesis experiment (--list_experiments)
    python main.py --experiment scogan_mnist2svhn_slfr --dry_run   # its options, nets and folder; trains nothing
    python main.py --report runs/a runs/b --out report.md  # compare runs' LPIPS tables

Bad input prints one line and exits with status 2.
"""
from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import shutil
import signal
import sys
import threading
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("NO_GCE_CHECK", "true")

from config import ConfigError, parse_config  # noqa: E402
from run_folder import (RunDirError, lock_run_dir, log_to_console, logger, prepare_run_dir,  # noqa: E402
                        release_run_locks, run_contents)
from data_sources import specs  # noqa: E402  (no TensorFlow)
import run_folder  # noqa: E402

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


def _load_paired(cfg):
    """A paired trainer's data (pix2pix): [training pairs, held-out pairs] of data.load_paired, and the DataInfo."""
    import data
    kw = dict(batch_size=cfg.batch_size, seed=cfg.seed, direction=cfg.direction, folder=cfg.paired_dir,
              data_dir=cfg.data_dir, image_size=cfg.image_size, download=cfg.download)
    train, info = data.load_paired(cfg.cogan_data, split="train", **kw)
    test, _ = data.load_paired(cfg.cogan_data, split="test", **kw)
    return [train, test], info


# A trainer's declared `data_kind` -> the loader of its data (cfg -> (datasets, DataInfo)); trainers declaring none
# take load_data's branches.
DATA_LOADERS = {"paired": _load_paired}


def load_data(cfg):
    """-> (list of datasets, one per domain; DataInfo). For --gan_type classifier: [training batches,
    test batches] and a data.LabelledInfo; for a trainer of data_kind "paired" (pix2pix): [training pairs,
    held-out pairs]. mnist2svhn_prune reads cfg.classifier_path (see with_classifier)."""
    import data
    from trainers import get_trainer
    loader = DATA_LOADERS.get(getattr(get_trainer(cfg.gan_type), "data_kind", None))
    if loader is not None:
        return loader(cfg)
    # celeba_crop: how CelebA faces are cropped (data.CELEBA_CROPS); the other sets ignore it.
    common = dict(batch_size=cfg.batch_size, seed=cfg.seed, data_dir=cfg.data_dir, download=cfg.download,
                  celeba_crop=cfg.celeba_crop)
    if cfg.gan_type == "classifier":
        train, test, info = data.load_labelled(cfg.dataset or cfg.cogan_data, domain_a=cfg.domain_a,
                                               image_size=cfg.image_size, **common)
        return [train, test], info
    if cfg.gan_type == "gan":
        ds, info = data.load_single(cfg.dataset, domain_a=cfg.domain_a, image_size=cfg.image_size,
                                    toy_ring=cfg.toy_ring, classes=cfg.classes, **common)
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


def _run_dir_name(cfg) -> str:
    """runs/<gan_type>_<data>_<time>: the folder a run without --dir writes (now)."""
    return os.path.join("runs", f"{cfg.gan_type}_{cfg.data_name}_{time.strftime('%Y%m%d-%H%M%S')}")


def _new_run_dir(cfg) -> str:
    """runs/<gan_type>_<data>_<time>, created here and locked, never an existing folder (a repeat in the same
    second gets a suffix; two started at once cannot both create the same one)."""
    base = _run_dir_name(cfg)
    path, n = base, 1
    while True:
        try:
            os.makedirs(path)
            break
        except FileExistsError:
            n += 1
            path = f"{base}-{n}"
    lock_run_dir(path)
    return path


def _one_line(e, limit=300) -> str:
    text = " ".join(str(e).split()) or type(e).__name__
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _start_of_a_resume(cfg):
    """`--resume` on a folder that holds no run yet starts it there, so one command serves the first start and
    every requeue; a folder holding other files is not a run to continue nor one to fill. -> cfg as a start."""
    d = cfg.dir
    if os.path.exists(d) and (not os.path.isdir(d) or run_contents(d)):
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


# What one training step surely holds per image of the batch, in float32 values (issue 22, item 7): the first
# generator layer's output and the image, each kept at least this many times (layer output, normalisation,
# activation, gradient) -- a lower bound, so a refusal never turns away a step that would fit.
KEPT_PER_VALUE = 4


def training_memory(cfg) -> float:
    """A lower bound of the bytes a training step of `cfg` needs: the real batches of one iteration, the first
    generator layer (nets.gen_blocks: Dense to 4x4x(1024 * g_width) values, 128 for the toy nets) with Adam's two
    slots, z, and the activations above, per domain (a shared first layer counted once)."""
    domains = 1 if cfg.gan_type in ("gan", "classifier") else 2
    pixels = 2 if cfg.is_toy else (cfg.image_size or 32) ** 2 * 3
    batch, noise_dim = float(cfg.batch_size or 1), float(cfg.noise_dim or 1)  # unset in some modes: no bound
    reals = batch * (cfg.disc_iters or 1) * domains * pixels
    if cfg.gan_type == "classifier":
        return 4.0 * reals * (1 + KEPT_PER_VALUE)
    units = 128 if cfg.is_toy else 16 * max(1, round(1024 * (cfg.g_width or 1.0)))
    first_layer = 3.0 * noise_dim * units
    z = 2.0 * batch * noise_dim
    activations = batch * domains * (units + pixels) * KEPT_PER_VALUE
    return 4.0 * (reals + first_layer + z + activations)


def _check_memory(cfg):
    short = run_folder.memory_shortfall(training_memory(cfg), f"--batch_size {cfg.batch_size} with --noise_dim "
                                        f"{cfg.noise_dim}")
    if short:
        raise ConfigError(short)


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


# ---------------------------------------------------------------------------------------------- --dry_run
# What a run would be (issue 19, item 7): the resolved options, its networks built (never traced) with their
# parameter counts, and the folder it would write. Nothing is trained, loaded, fetched or written, no lock taken:
# an auto-trained classifier or weights that are not there yet are said, not made.

VGG19_NOTOP = "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"  # keras.applications' file name


def _example_shape(cfg) -> tuple:
    """The shape of one example, from the resolved options alone (data.py: RGB at --image_size; toy: 2-D points)."""
    return (2,) if cfg.is_toy else (cfg.image_size, cfg.image_size, 3)


def _size(variables) -> int:
    return int(sum(int(math.prod(v.shape)) for v in variables))


def _gan_rows(cfg, shape) -> list:
    """[(name, parameters, note)] of the generators and critics, as the trainer builds them (trainers/base.py), or
    as the trainer's own `dry_run_rows(cfg, shape)` says where it builds other nets (pix2pix)."""
    import nets
    from trainers import get_trainer
    from trainers.base import net_options
    own = getattr(get_trainer(cfg.gan_type), "dry_run_rows", None)
    if own is not None:
        return own(cfg, shape)
    options = net_options(cfg, shape[-1])
    domains = get_trainer(cfg.gan_type).domains
    g = nets.build_generators(cfg.arch, options, domains=domains, shared=cfg.shared_layers_g)
    d = nets.build_discriminators(cfg.arch, options, shape, domains=domains, shared=cfg.shared_layers_d)
    blocks = (lambda n: f"{n} block{'s' if n != 1 else ''}")
    shared = {"G": f"shares G1's first {blocks(cfg.shared_layers_g)}", "D": f"shares D1's last "
              f"{blocks(cfg.shared_layers_d)}"}
    rows = [(m.name, _size(m.weights), shared[m.name[0]] if i and getattr(cfg, f"shared_layers_{m.name[0].lower()}")
             else "") for nets_ in (g, d) for i, m in enumerate(nets_)]
    if domains > 1:
        unique = {id(w): w for m in g + d for w in m.weights}.values()  # weights: no RNG states (Dropout's seeds)
        rows.append(("together", _size(unique), "shared weights counted once"))
    return rows


def _encoder_rows(cfg, shape) -> list:
    import classifiers
    encoder = classifiers.latent_encoder(shape, cfg.noise_dim, name="F")
    return [("F", _size(encoder.weights), "latent encoder of the cycle consistency (Eq. 4.3)")]


def _classifier_names(name) -> tuple:
    """(class names, multilabel) of the Appendix B classifier of labelled set `name` (data_sources.specs)."""
    import classifiers
    if name == "celeba":
        return classifiers.CELEBA_CLASSIFIER_ATTRIBUTES, True
    return specs.spec_for(name).classes, False


def _classifier_rows(cfg, shape) -> list:
    """The classifier SL or SVHN pruning reads: --classifier_path, the cached one, or the one it would train."""
    import classifiers
    import data
    import config
    from trainers import classifier as auto
    what = "semantic loss (Eq. 4.2)" if cfg.semantic_loss else "SVHN pruning (sec. 2.7)"
    if cfg.classifier_path:
        path, note = cfg.classifier_path, f"--classifier_path, for the {what}"
    else:
        name = data.classifier_data_for(cfg.cogan_data)
        default_steps, batch = config.classifier_defaults(name)
        steps = cfg.classifier_steps or default_steps
        path = auto.cached_path(name, image_size=cfg.image_size, seed=cfg.seed, steps=steps, batch_size=batch,
                                data_dir=cfg.data_dir, celeba_crop=cfg.celeba_crop)
        if not auto._is_complete(path):
            names, multilabel = _classifier_names(name)
            model = classifiers.build_classifier(shape, names, multilabel)
            return [("classifier", _size(model.weights), f"for the {what}: not cached yet, the run would first train "
                     f"it on {name} ({steps} steps, batch {batch}) and cache it at {path}")]
        note = f"for the {what}: cached at {path}"
    try:
        model, _ = classifiers.load_classifier(path)
    except ValueError as e:
        raise ConfigError(str(e)) from None
    return [("classifier", _size(model.weights), note)]


def _keras_cached(name) -> bool:
    """Whether keras.utils.get_file would find `name` without downloading it ($KERAS_HOME or ~/.keras, /tmp/.keras)."""
    homes = [os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras"), "/tmp/.keras"]
    return any(os.path.isfile(os.path.join(h, "models", name)) for h in homes)


def _vgg_rows(cfg, shape) -> list:
    import regularisers
    note = "frozen features of the perceptual loss (Eq. 4.5)"
    weights = cfg.vgg_weights
    if weights == "imagenet" and not _keras_cached(VGG19_NOTOP):
        weights = None  # the same net without its weights: counted, nothing downloaded
        note += (f"; its ImageNet weights are not here: training downloads them into ~/.keras/models (offline: "
                 f"pre-place {VGG19_NOTOP} there, or pass --vgg_weights PATH|none)")
    try:
        model = regularisers.build_vgg19_features(weights)
    except ValueError as e:
        raise ConfigError(str(e)) from None
    return [("VGG19", _size(model.weights), note)]


def _classifier_run_rows(cfg, shape) -> list:
    """--gan_type classifier: the Appendix B classifier it trains (classes from the set, or --domain_a's folders)."""
    import classifiers
    if cfg.domain_a:
        root = Path(cfg.domain_a).expanduser()
        names = sorted(d.name for d in root.iterdir() if d.is_dir() and not d.name.startswith(".")) \
            if root.is_dir() else []
        if not names:
            return [("classifier", None, f"its classes are the subfolders of --domain_a {cfg.domain_a} (none found)")]
        names, multilabel = tuple(names), False
    else:
        names, multilabel = _classifier_names(cfg.dataset or cfg.cogan_data)
    model = classifiers.build_classifier(shape, names, multilabel)
    kinds = "attributes" if multilabel else "classes"
    return [("classifier", _size(model.weights), f"Appendix B, {len(names)} {kinds}")]


# The nets a run builds, by what asks for them: (whether the run has them, rows of (name, parameters, note)).
def _needs_classifier(cfg) -> bool:
    from trainers.classifier import needs_classifier
    return needs_classifier(cfg)


DRY_RUN_NETS = (
    (lambda cfg: cfg.gan_type != "classifier", _gan_rows),
    (lambda cfg: cfg.gan_type == "classifier", _classifier_run_rows),
    (lambda cfg: cfg.gan_type == "scogan" and cfg.cycle_consistency, _encoder_rows),
    (_needs_classifier, _classifier_rows),
    (lambda cfg: cfg.gan_type == "scogan" and cfg.perceptual_loss, _vgg_rows),
)


def _folder_plan(cfg) -> str:
    """The run folder a run of `cfg` would write, and what it would do with it (prepare_run_dir's cases)."""
    if cfg.dir is None:
        return f"{_run_dir_name(cfg)} (a new folder, named by the time the run starts)"
    d = Path(cfg.dir)
    has_run = (d / "config.json").is_file()
    if cfg.resume:
        return f"{d} ({'continues the run there' if has_run else 'starts the run there (no run in it yet)'})"
    if d.exists() and not d.is_dir():
        return f"{d} (exists and is not a folder: the run would refuse it)"
    if d.is_dir() and run_contents(d):
        if not has_run:
            return f"{d} (holds files but no run: the run would refuse it)"
        return (f"{d} (replaces the run there: --overwrite)" if cfg.overwrite else
                f"{d} (holds a run: the run would refuse it without --resume or --overwrite)")
    return f"{d} (a new run)"


def _lpips_plan(cfg):
    """Where the final LPIPS table's weights come from (evaluation.evaluate_after_training), or None."""
    import evaluation
    from metrics import weights as lpips_weights
    if not cfg.final_eval or cfg.gan_type not in evaluation.COUPLED:
        return None
    folder = lpips_weights.default_dir()
    if any((folder / f"alexnet.{ext}").is_file() for ext in ("npz", "ckpt")):
        return f"LPIPS alexnet weights for the final table: in {folder}"
    if not cfg.download or lpips_weights.fetching_disabled():
        why = "--no_download" if not cfg.download else "$LPIPS_NO_DOWNLOAD"
        return (f"LPIPS alexnet weights for the final table: not in {folder} and not fetched ({why}): the table "
                f"would be skipped; {lpips_weights.how_to_fetch(folder)}")
    return f"LPIPS alexnet weights for the final table: not in {folder} yet, fetched there at the end of training"


def dry_run(cfg) -> list:
    """--dry_run: print the resolved configuration (the config.json a run would write), each network's parameters
    and the run folder; build the nets but train, load, fetch and write nothing. -> the network rows."""
    import json
    shape = _example_shape(cfg)
    rows = [row for wanted, build in DRY_RUN_NETS if wanted(cfg) for row in build(cfg, shape)]
    print("dry run: nothing is trained, downloaded or written")
    print("configuration (the run's config.json):")
    print(json.dumps(cfg.to_dict(), indent=2))
    print("networks (parameters, trainable and not):")
    for name, count, note in rows:
        shown = "-" if count is None else f"{count:,}"
        print(f"  {name:<10} {shown:>13}" + (f"  {note}" if note else ""))
    lpips = _lpips_plan(cfg)
    if lpips:
        print(lpips)
    print(f"run folder: {_folder_plan(cfg)}")
    return rows


def run(argv=None):
    from trainers import get_trainer
    cfg = parse_config(sys.argv[1:] if argv is None else argv, _data_defaults)
    _check_memory(cfg)  # before any heavy work
    if cfg.dry_run:  # before the strategy (a multiworker one waits for its cluster) and any lock or folder
        return dry_run(cfg)
    strategy = _strategy(cfg)  # before any TensorFlow op: --cpu_replicas splits the CPU first
    import devices
    if not devices.is_chief(strategy):
        # Before looking at the folder: the chief may be writing it already (workers start seconds apart).
        return _run_worker(cfg, strategy)
    created = cfg.dir is not None and not os.path.lexists(cfg.dir)
    if cfg.dir is not None:  # one writer per run folder, taken before the folder is read (issue 22, item 1)
        lock_run_dir(cfg.dir)
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
        created = True
    if resuming:
        # Everything a resume uses is checked before config.json is rewritten: a refused resume leaves the run
        # exactly as it was, so a plain `--resume` still continues it.
        run_dir = prepare_run_dir(cfg.dir, resume=True, overwrite=False)
        log("building the networks ...")
        trainer = get_trainer(cfg.gan_type)(cfg, info, datasets, run_dir, strategy=strategy)
        step = _restore_for_resume(trainer, run_dir) or 0  # fit restores it again (trainers/loop.py): no harm
        # What the options' resume policies let change (config.check_resume) is said and recorded with its step;
        # a resume that changes nothing, or trains nothing, leaves config.json as it was (issue 22, item 2).
        import config
        saved = run_dir / "config.json"
        changes = config.resume_changes(config.Config.load(saved).to_dict(), cfg.to_dict())
        said = "; ".join(map(str, changes))
        if changes and step < cfg.iterations:
            log(f"resuming at step {step} with {said} (recorded in {saved})")
            cfg.save(saved, history=config.resume_history(saved) + [config.history_entry(changes, step)])
        elif changes:
            log(f"nothing to train at step {step}: {said} not recorded")
    else:
        if starting:
            log(f"nothing to resume in {cfg.dir} yet: starting the run there")
        fresh = created
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
                for p in run_contents(run_dir):
                    shutil.rmtree(p) if p.is_dir() else p.unlink()
            raise
    from run_folder import provenance, record_provenance
    where = cfg.strategy if cfg.strategy == "default" else f"{cfg.strategy}, {strategy.num_replicas_in_sync} replicas"
    # A resume with nothing to train only finishes what the run lacks (its models/, its final table) and changes
    # no other file (issue 22, item 2).
    finished = resuming and step >= cfg.iterations
    if not finished:
        record_provenance(run_dir, provenance(sys.argv[1:] if argv is None else argv, strategy=where))
    trainer.fit()
    import evaluation
    if not (finished and (run_dir / "metrics.json").is_file()):
        evaluation.evaluate_after_training(cfg, run_dir)
    return run_dir


# Stop signals outside the training loop (start-up, data loading, building, the final evaluation, --sample,
# --evaluate) exit as inside it (trainers.loop.EXIT_STATUS): 143, what SLURM requeues expect (issue 22, item 6).
STOP_STATUS = {"SIGTERM": 143, "SIGUSR1": 143}


class Stopped(KeyboardInterrupt):
    """SIGTERM / SIGUSR1 outside `fit`: files already written are whole (they are written atomically)."""

    def __init__(self, name):
        super().__init__(f"stopped by {name}: what was written is whole; run the same command again to finish it "
                         f"(a training run continues with --resume from its last checkpoint)")
        self.signal_name, self.exit_status = name, STOP_STATUS[name]


def _raise_stop(signum, frame):
    raise Stopped(signal.Signals(signum).name)


@contextlib.contextmanager
def _stop_signals():
    """While the command runs: SIGTERM / SIGUSR1 raise Stopped (fit installs its own handlers for its loop and
    puts these back); the previous handlers return afterwards."""
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for name in STOP_STATUS:
            sig = getattr(signal, name, None)
            if sig is not None:
                previous[sig] = signal.signal(sig, _raise_stop)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _os_error_line(e: OSError) -> str:
    """'PATH: cause' of an OSError nothing more specific caught (a run folder or an output that cannot be made)."""
    cause = e.strerror or _one_line(e)
    paths = [str(p) for p in (e.filename, e.filename2) if p is not None]
    return f"{' -> '.join(paths)}: {cause}" if paths else cause


# Runs that --evaluate / --sample cannot read yet, by gan_type: why (one line, exit 2).
NOT_YET = {}


# Runs that --sample alone cannot read, by gan_type: why.
NOT_SAMPLED = {"pix2pix": "a pix2pix run translates held-out images and has no z to sample pairs from; `python "
                          "main.py --evaluate RUN` scores its translations, and RUN/samples/ holds its x | G(x) | y "
                          "grids",
               "cyclegan": "a CycleGAN run translates images and has no z to sample pairs from; `python main.py "
                           "--evaluate RUN` scores its translations, and RUN/samples/ holds its a | G_AB(a) | "
                           "G_BA(G_AB(a)) grids"}


def _refuse_not_yet(argv, mode):
    """`mode RUN` on a run of a gan_type in NOT_YET: ConfigError. A RUN whose config.json cannot be read is left to
    the mode, which names what is wrong."""
    i = argv.index(mode) + 1
    try:
        gan_type = json.loads((Path(argv[i]) / "config.json").read_text()).get("gan_type")
    except (IndexError, OSError, ValueError, AttributeError):
        return
    if gan_type in NOT_YET:
        raise ConfigError(f"{mode} is not yet for {gan_type} runs ({NOT_YET[gan_type]}): {argv[i]} is one")
    if mode == "--sample" and gan_type in NOT_SAMPLED:
        raise ConfigError(f"--sample is not for {gan_type} runs ({NOT_SAMPLED[gan_type]}): {argv[i]} is one")


def _dispatch(argv):
    for mode in ("--evaluate", "--sample"):
        if mode in argv and "--report" not in argv and "--list_experiments" not in argv:
            _refuse_not_yet(argv, mode)
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
        with _stop_signals():
            _dispatch(argv)
    except (ConfigError, RunDirError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as e:
        # trainers.loop.TrainingInterrupted: a signal during training, checkpoint saved and the resume line
        # printed; 143 for SIGTERM / SIGUSR1 (what SLURM requeues expect), 130 for SIGINT. Stopped: the same
        # signals outside the training loop.
        if isinstance(e, Stopped):
            print(str(e), file=sys.stderr)
        elif not hasattr(e, "exit_status"):
            print("interrupted: continue with --resume from the last checkpoint", file=sys.stderr)
        return getattr(e, "exit_status", 130)
    except OSError as e:  # the run folder or an output cannot be made or written (issue 22, item 3)
        print(f"error: {_os_error_line(e)}", file=sys.stderr)
        return 2
    except Exception as e:
        # data.DataError, without importing data (and TensorFlow) for the modes that need neither.
        data = sys.modules.get("data")
        if data is not None and isinstance(e, data.DataError):
            print(f"error: {e}", file=sys.stderr)
            return 2
        raise
    finally:
        release_run_locks()
    return 0


if __name__ == "__main__":
    sys.exit(main())
