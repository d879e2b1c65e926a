"""`--gan_type classifier` end to end (thesis Appendix B), the classifier that the semantic loss (Eq. 4.2) and
SVHN pruning (sec. 2.7) train and cache for themselves without --classifier_path, and bad input -> one line,
exit status 2."""
import json

import pytest

import classifiers
import main
from config import parse_config
from test_data import celeba_manual, fake_svhn, mnist_dir, solid, use_fake_svhn  # noqa: F401 (fixtures)


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    """Auto-trained classifiers go to a fresh cache, never the user's ~/.cache."""
    monkeypatch.setenv("COUPLED_GAN_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache" / "classifiers"


def run(argv, capsys):
    rc = main.main([str(a) for a in argv])
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


def resolved(argv):
    return parse_config([str(a) for a in argv], main._data_defaults)


def test_classifier_run_on_digits_reports_accuracy_saves_and_resumes(tmp_path, capsys):
    d = tmp_path / "run"
    argv = ["--gan_type", "classifier", "--dataset", "digits", "--iterations", 30, "--log_interval", 10, "--dir", d]
    rc, out, err = run(argv, capsys)
    assert rc == 0, err
    metrics = json.loads((d / "metrics.json").read_text())
    assert metrics["data"] == "digits" and metrics["steps"] == 30 and metrics["test_images"] == 180
    assert 0.3 < metrics["test_accuracy"] <= 1.0       # smoke bound after 30 steps: 10 classes, chance is 0.1
    assert f"classifier test accuracy {metrics['test_accuracy']:.4f} (180 held-out images of digits, 30 steps)" in out
    model, meta = classifiers.load_classifier(d / "classifier.keras")
    assert model.input_shape == (None, 32, 32, 3) and model.output_shape == (None, 10)
    assert meta["names"] == list("0123456789") and meta["multilabel"] is False
    assert meta["extra"]["test_accuracy"] == metrics["test_accuracy"]
    saved = json.loads((d / "config.json").read_text())
    assert (saved["gan_type"], saved["iterations"], saved["batch_size"]) == ("classifier", 30, 64)
    rows = (d / "losses.csv").read_text().splitlines()
    assert rows[0] == "step,loss,batch_accuracy" and len(rows) == 31
    # The run folder rules of every gan_type: no silent overwrite; --resume continues from the checkpoint.
    rc, _, err = run(argv, capsys)
    assert rc == 2 and "already holds a run" in err
    rc, out, err = run(["--dir", d, "--resume", "--iterations", 35, "--log_interval", 5], capsys)
    assert rc == 0, err
    assert "from step 30 to 35" in out
    assert [r.split(",")[0] for r in (d / "losses.csv").read_text().splitlines()[1:]] == [str(i) for i in range(1, 36)]
    assert json.loads((d / "metrics.json").read_text())["steps"] == 35


def test_classifier_run_on_a_labelled_folder_counts_unreadable_files(tmp_path, capsys):
    for name, rgb in (("day", (250, 250, 250)), ("night", (5, 5, 5))):
        for i in range(6):
            solid(tmp_path / "photos" / name / f"{i}.png", (30, 30), rgb)
    (tmp_path / "photos" / "night" / "broken.png").write_bytes(b"\x89PNG junk")
    rc, out, err = run(["--gan_type", "classifier", "--domain_a", tmp_path / "photos", "--iterations", 3,
                        "--batch_size", 4, "--dir", tmp_path / "run"], capsys)
    assert rc == 0, err
    assert "skipped 1 unreadable file(s)" in out
    _, meta = classifiers.load_classifier(tmp_path / "run" / "classifier.keras")
    assert meta["names"] == ["day", "night"]
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["test_images"] == 1


@pytest.mark.parametrize("case,msg", [
    ("empty_folder", "has no class subfolders"),
    ("images_without_subfolders", "has no class subfolders"),
    ("two_sources", "one labelled source"),
    ("classifier_pair_without_shared_classes", "share none"),
    ("classifier_gan_option", "--arch is a GAN option"),
    ("classifier_loss", "--loss is a GAN option"),          # Appendix B fixes the loss and the optimiser:
    ("classifier_optimizer", "--g_lr is a GAN option"),     # a GAN option given is refused, not ignored
    ("sl_pair_without_shared_classes", "share none"),
    ("sl_folders", "local image folders carry no labels"),
    ("sl_missing_classifier", "no such file"),
    ("sl_classifier_of_another_size", "takes images of shape [64, 64, 3]"),
    ("prune_threshold", "--prune_threshold must lie in"),
])
def test_bad_input_exits_2_with_one_line(case, msg, tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    flat = tmp_path / "flat"
    solid(flat / "a.png", (8, 8), (1, 2, 3))
    wrong_size = tmp_path / "c64.keras"
    if case == "sl_classifier_of_another_size":
        classifiers.save_classifier(classifiers.digit_classifier((64, 64, 3)), wrong_size, multilabel=False)
    argv = {
        "empty_folder": ["--gan_type", "classifier", "--domain_a", empty],
        "images_without_subfolders": ["--gan_type", "classifier", "--domain_a", flat],
        "two_sources": ["--gan_type", "classifier", "--dataset", "digits", "--domain_a", flat],
        "classifier_pair_without_shared_classes": ["--gan_type", "classifier", "--cogan_data", "mnist2fashion"],
        "classifier_gan_option": ["--gan_type", "classifier", "--arch", "cogan32"],
        "classifier_loss": ["--gan_type", "classifier", "--loss", "wgan"],
        "classifier_optimizer": ["--gan_type", "classifier", "--g_lr", 0.1],
        "sl_pair_without_shared_classes": ["--gan_type", "scogan", "--semantic_loss", "--cogan_data", "mnist2fashion"],
        "sl_folders": ["--gan_type", "scogan", "--semantic_loss", "--domain_a", flat, "--domain_b", flat],
        "sl_missing_classifier": ["--gan_type", "scogan", "--semantic_loss", "--classifier_path", tmp_path / "no.keras"],
        "sl_classifier_of_another_size": ["--gan_type", "scogan", "--semantic_loss", "--classifier_path", wrong_size],
        "prune_threshold": ["--cogan_data", "mnist2svhn_prune", "--prune_threshold", 1.5],
    }[case]
    rc, out, err = run(argv + ["--dir", tmp_path / "run"], capsys)
    assert rc == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and msg in lines[0], err
    assert not (tmp_path / "run" / "config.json").exists()


def test_semantic_loss_trains_caches_and_reuses_its_classifier(tmp_path, capsys, cache, logged):
    argv = ["--gan_type", "scogan", "--semantic_loss", "--cogan_data", "digits2negative", "--iterations", 1,
            "--batch_size", 8, "--classifier_steps", 5, "--no_final_eval", "--sample_rows", 1, "--sample_cols", 2]
    # A file cached before the held-out digits left the pair's training split (review 11 M1) is not reused.
    stale = cache / "digits2negative_32px_seed0_steps5_batch64.keras"
    cache.mkdir(parents=True)
    stale.write_bytes(b"trained on digits now held out")
    (cache / (stale.name + classifiers.META_SUFFIX)).write_text("{}")
    rc, out, err = run(argv + ["--dir", tmp_path / "a"], capsys)
    assert rc == 0, err
    cached = cache / "digits2negative_32px_seed0_steps5_batch64_split2.keras"
    assert (f"no --classifier_path: training a Table B.1 classifier on digits2negative for 5 steps; "
            f"cached at {cached}") in out
    assert stale.read_bytes() == b"trained on digits now held out"
    # Recorded before config.json was written: a repeat (--config) or --resume uses the same file.
    assert json.loads((tmp_path / "a" / "config.json").read_text())["classifier_path"] == str(cached)
    _, meta = classifiers.load_classifier(cached)
    assert meta["extra"]["data"] == "digits2negative" and meta["extra"]["steps"] == 5
    # Trained on the two domains (808 + 809 of the 1,617 kept digits), tested on the 180 held out, as is and negated.
    assert meta["extra"]["train_images"] == 1617 and meta["extra"]["test_images"] == 2 * 180
    assert "sl" in (tmp_path / "a" / "losses.csv").read_text().splitlines()[0].split(",")
    stamp = cached.stat().st_mtime_ns
    # A later run with the same data, size, seed and steps reuses it (no training); another seed trains its own.
    cfg = resolved(argv + ["--dir", tmp_path / "b"])
    logged.messages.clear()
    logs = logged.messages
    cfg = main.with_classifier(cfg)
    assert cfg.classifier_path == str(cached) and cached.stat().st_mtime_ns == stamp
    assert logs == [f"no --classifier_path: using the cached Table B.1 classifier of digits2negative (5 steps) "
                    f"at {cached}"]
    other = resolved(argv + ["--seed", 3, "--classifier_steps", 2])
    other = main.with_classifier(other)
    assert other.classifier_path == str(cache / "digits2negative_32px_seed3_steps2_batch64_split2.keras")
    assert "training a Table B.1 classifier on digits2negative for 2 steps" in logs[1]
    # An explicit --classifier_path is used as given, silently.
    given = resolved(argv + ["--classifier_path", cached])
    before = len(logs)
    given = main.with_classifier(given)
    assert given.classifier_path == str(cached) and len(logs) == before


def test_semantic_loss_on_digits2edge_uses_the_standard_digits_classifier(tmp_path, capsys, cache):
    """Edge pairs take the standard classifier (thesis line 1020: SL on mnist2edge with the MNIST classifier),
    and a pair classifier cached under the old key is not reused."""
    stale = cache / "digits2edge_32px_seed0_steps3_batch64.keras"
    cache.mkdir(parents=True)
    stale.write_bytes(b"an old pair classifier")
    (cache / (stale.name + classifiers.META_SUFFIX)).write_text("{}")
    argv = ["--gan_type", "scogan", "--semantic_loss", "--cogan_data", "digits2edge", "--iterations", 1,
            "--batch_size", 8, "--classifier_steps", 3, "--no_final_eval", "--sample_rows", 1, "--sample_cols", 2,
            "--dir", tmp_path / "a"]
    rc, out, err = run(argv, capsys)
    assert rc == 0, err
    cached = cache / "digits_32px_seed0_steps3_batch64.keras"
    assert f"training a Table B.1 classifier on digits for 3 steps; cached at {cached}" in out
    assert json.loads((tmp_path / "a" / "config.json").read_text())["classifier_path"] == str(cached)
    meta = json.loads((cache / (cached.name + classifiers.META_SUFFIX)).read_text())
    assert meta["extra"]["data"] == "digits" and meta["extra"]["steps"] == 3
    assert meta["extra"]["train_images"] == 1617 and meta["extra"]["test_images"] == 180   # untransformed digits
    assert stale.read_bytes() == b"an old pair classifier"


def test_semantic_loss_on_mnist2edge_trains_on_standard_mnist(shared_data, cache, logged):
    from trainers.classifier import ensure_classifier
    cfg = resolved(["--gan_type", "scogan", "--semantic_loss", "--cogan_data", "mnist2edge", "--data_dir",
                    shared_data, "--classifier_steps", 1])
    logged.messages.clear()
    logs = logged.messages
    path = ensure_classifier(cfg)
    assert path.startswith(str(cache / "mnist_32px_seed0_steps1_batch128_")), path
    assert logs[0].startswith("no --classifier_path: training a Table B.1 classifier on mnist for 1 steps")
    _, meta = classifiers.load_classifier(path)
    # The real t10k split alone: 9,000 untransformed digits to train on, 1,000 held out.
    assert meta["extra"]["data"] == "mnist" and meta["extra"]["train_images"] == 9000
    assert meta["extra"]["test_images"] == 1000


def test_celeba_classifier_records_its_crop_and_the_cache_keys_on_it(celeba_manual, tmp_path, capsys, cache):
    from trainers.classifier import cached_path, ensure_classifier
    root = celeba_manual[0]
    rc, out, err = run(["--gan_type", "classifier", "--dataset", "celeba", "--data_dir", root, "--celeba_crop",
                        "square", "--image_size", 32, "--iterations", 1, "--batch_size", 2, "--dir", tmp_path / "c"],
                       capsys)
    assert rc == 0, err
    assert json.loads((tmp_path / "c" / "metrics.json").read_text())["celeba_crop"] == "square"
    assert classifiers.load_classifier(tmp_path / "c" / "classifier.keras")[1]["extra"]["celeba_crop"] == "square"
    key = dict(image_size=32, seed=0, steps=1, batch_size=2)
    assert cached_path("celeba", **key, celeba_crop="thesis") != cached_path("celeba", **key, celeba_crop="square")
    assert cached_path("mnist", **key, celeba_crop="thesis") == cached_path("mnist", **key, celeba_crop="square")
    cfg = resolved(["--gan_type", "scogan", "--semantic_loss", "--cogan_data", "celeba_Smiling", "--data_dir", root,
                    "--image_size", 32, "--classifier_steps", 1])
    assert cfg.celeba_crop == "thesis"
    path = ensure_classifier(cfg)
    assert path.startswith(str(cache / "celeba_32px_seed0_steps1_batch128_thesiscrop_")), path
    assert classifiers.load_classifier(path)[1]["extra"]["celeba_crop"] == "thesis"


def test_pruned_svhn_gets_the_cached_mnist_svhn_classifier(fake_svhn, mnist_dir, monkeypatch, cache, logged):
    use_fake_svhn(monkeypatch, fake_svhn)
    cfg = resolved(["--cogan_data", "mnist2svhn_prune", "--data_dir", mnist_dir, "--classifier_steps", 2,
                    "--prune_threshold", 0.0, "--batch_size", 4])
    logged.messages.clear()
    logs = logged.messages
    cfg = main.with_classifier(cfg)
    (a, b), info = main.load_data(cfg)
    assert logs[0].startswith("no --classifier_path: training a Table B.1 classifier on mnist_svhn for 2 steps")
    assert cfg.classifier_path.startswith(str(cache / "mnist_svhn_32px_seed0_steps2_batch128_"))
    _, meta = classifiers.load_classifier(cfg.classifier_path)
    assert meta["extra"]["train_images"] == 60 + 20 and meta["extra"]["test_images"] == 20 + 6
    assert info.name == "mnist2svhn_prune" and info.sizes == (60, 20)   # threshold 0: every image kept
    assert next(iter(b)).shape == (4, 32, 32, 3)


@pytest.mark.parametrize("argv,expected", [
    ([], ("digits", 32, 200, 64)),
    (["--dataset", "mnist"], ("mnist", 32, 4700, 128)),
    (["--cogan_data", "mnist2svhn"], ("mnist2svhn", 32, 10400, 128)),
    (["--cogan_data", "digits2edge", "--iterations", 7], ("digits2edge", 32, 7, 64)),
    (["--dataset", "celeba", "--batch_size", 16], ("celeba", 128, 14300, 16)),
    (["--cogan_data", "celeba_Smiling"], ("celeba_Smiling", 128, 14300, 128)),
])
def test_classifier_config_defaults(argv, expected):
    cfg = resolved(["--gan_type", "classifier"] + argv)
    assert (cfg.data_name, cfg.image_size, cfg.iterations, cfg.batch_size) == expected
    assert cfg.arch is None and cfg.shared_layers_g is None   # no GAN settings invented


def test_semantic_loss_config_needs_no_classifier_path_where_one_can_be_trained():
    for pair in ("digits2edge", "mnist2rotate", "mnist2svhn", "celeba_Male"):
        cfg = resolved(["--gan_type", "scogan", "--semantic_loss", "--cogan_data", pair])
        assert cfg.classifier_path is None and cfg.classifier_steps is None
    assert resolved(["--cogan_data", "mnist2svhn_prune"]).prune_threshold == 0.4
