"""Config: CLI parsing, presets, derived values, validation, JSON round trip."""
import json

import pytest

from config import Config, ConfigError, parse_config



def parse(*argv, size=32):
    return parse_config(list(argv), lambda cfg: size)


def test_defaults_are_the_offline_cogan_demo():
    cfg = parse()
    assert (cfg.gan_type, cfg.cogan_data, cfg.arch, cfg.image_size) == ("cogan", "digits2edge", "cogan32", 32)
    assert (cfg.shared_layers_g, cfg.shared_layers_d) == (4, 3)
    # The offline demo keeps the DCGAN setting of ch. 3 (fast on a CPU); --preset thesis gives sec. 5.1.
    assert (cfg.preset, cfg.loss, cfg.disc_penalty, cfg.disc_iters) == ("dcgan", "nonsat", "none", 1)
    # Table 3.1's generator at a quarter of its channels, 3,000 iterations of batch 32: recognisable digit pairs in
    # ~9 minutes on 2 CPU cores (README, "The offline demo").
    assert (cfg.iterations, cfg.batch_size, cfg.g_width, cfg.sample_interval) == (3000, 32, 0.25, 250)
    assert parse("--preset", "thesis").disc_iters == 5
    assert parse("--g_width", "1").g_width == 1.0
    # Other data get the thesis's widths.
    assert parse("--cogan_data", "mnist2edge").g_width == 1.0


def test_a_run_saved_before_g_width_resumes_with_the_full_generator(tmp_path):
    """Demo runs saved before --g_width existed trained Table 3.1's full generator: their config.json has no
    g_width, and resuming one keeps 1 (the demo's 0.25 would not restore their checkpoint)."""
    saved = parse("--dir", str(tmp_path), "--iterations", "250", "--batch_size", "64").to_dict()
    saved.pop("g_width")
    (tmp_path / "config.json").write_text(json.dumps(saved))
    assert parse("--dir", str(tmp_path), "--resume").g_width == 1.0
    with pytest.raises(ConfigError, match="g_width must be positive"):
        parse("--g_width", "0")


@pytest.mark.parametrize("gan_type", ["cogan", "scogan"])
def test_coupled_defaults_are_sec_5_1(gan_type):
    """Sec. 5.1 (line 996): DCGAN optimiser settings and batch size (sec. 2.6: Adam 2e-4, beta1 0.5, beta2 0.999,
    batch 128), Xavier initialisation, 100 uniform latent values, WGAN-GP with lambda = 10 (5 critic steps,
    sec. 4.1), 20,000 iterations; bias 0.1 (the CoGAN and thesis code); no weight decay (the authors' loops
    never added it, item 9 of issue 8)."""
    cfg = parse("--gan_type", gan_type, "--cogan_data", "mnist2edge")
    assert cfg.preset == "thesis"
    assert (cfg.loss, cfg.disc_penalty, cfg.gp_weight, cfg.disc_iters) == ("wgan", "wgan-gp", 10.0, 5)
    assert (cfg.g_lr, cfg.d_lr, cfg.g_beta1, cfg.g_beta2, cfg.d_beta1, cfg.d_beta2) == (2e-4, 2e-4, 0.5, 0.999,
                                                                                      0.5, 0.999)
    assert (cfg.batch_size, cfg.iterations, cfg.noise_dim, cfg.w_init, cfg.b_init) == (128, 20000, 100, "xavier",
                                                                                       "constant")
    assert cfg.weight_decay == 0.0 and cfg.optimizer == "adam"
    assert (cfg.shared_layers_g, cfg.shared_layers_d) == ((4, 3) if gan_type == "cogan" else (0, 0))


def test_dcgan_setting_is_one_flag_away():
    cfg = parse("--cogan_data", "mnist2edge", "--preset", "dcgan")
    assert (cfg.loss, cfg.disc_penalty, cfg.disc_iters, cfg.g_lr, cfg.g_beta1) == ("nonsat", "none", 1, 2e-4, 0.5)
    assert parse("--cogan_data", "mnist2edge", "--weight_decay", "0.0005").weight_decay == 0.0005


def test_celeba_cyclegan_and_mnist2svhn_get_their_sections_settings():
    """Sec. 5.3 (line 1103): N(0, 0.02), WGAN-GP with Gulrajani et al.'s settings, 35,000 iterations; sec. 5.4
    (line 1160): the same, 20,000 iterations; sec. 5.2 (line 1048): 25,000 iterations. Options still win."""
    for data, iterations in (("celeba_Smiling", 35000), ("apple2orange", 20000), ("horse2zebra", 20000)):
        cfg = parse("--gan_type", "scogan", "--cogan_data", data, size=128)
        assert (cfg.preset, cfg.w_init, cfg.iterations, cfg.arch) == ("wgan-gp", "normal", iterations, "cogan128")
        assert (cfg.loss, cfg.disc_penalty, cfg.disc_iters, cfg.g_lr, cfg.g_beta1, cfg.g_beta2, cfg.d_norm) == (
            "wgan", "wgan-gp", 5, 1e-4, 0.0, 0.9, "layer")
    cfg = parse("--cogan_data", "celeba_Smiling", "--w_init", "xavier", "--iterations", "7", "--preset", "thesis",
                size=128)
    assert (cfg.w_init, cfg.iterations, cfg.preset, cfg.g_lr) == ("xavier", 7, "thesis", 2e-4)
    cfg = parse("--gan_type", "scogan", "--cogan_data", "mnist2svhn")
    assert (cfg.preset, cfg.iterations, cfg.w_init) == ("thesis", 25000, "xavier")


def test_resuming_a_run_of_the_earlier_pl_normalisation_is_refused(tmp_path):
    """Runs saved before the listing's PL: their config.json has no pl_form. Resuming one would silently change its
    loss by factors of 2,048 (content) and 4,096+ (style): refused, with the way forward."""
    cfg = parse("--gan_type", "scogan", "--cogan_data", "mnist2edge", "--perceptual_loss", "--dir", str(tmp_path))
    saved = cfg.to_dict()
    for k in ("pl_form", "fr_maps", "fr_norm", "celeba_crop", "sl_form", "experiment"):
        saved.pop(k)
    (tmp_path / "config.json").write_text(json.dumps(saved))
    with pytest.raises(ConfigError, match="--pl_form listing"):
        parse("--dir", str(tmp_path), "--resume")
    resumed = parse("--dir", str(tmp_path), "--resume", "--pl_form", "listing")
    # what the old run computed for FR and the crop is kept
    assert (resumed.fr_maps, resumed.fr_norm, resumed.celeba_crop, resumed.sl_form) == ("hidden", "mean", "square",
                                                                                        "listing")


def test_toy_preset_is_sec_2_3_2():
    """Line 390: gen_lr = disc_lr = 0.0001, z_size = 10, k = 1, ADAM, batch_size = 100, iterations = 2000."""
    cfg = parse("--gan_type", "gan", "--dataset", "toy")
    assert cfg.preset == "toy"
    assert (cfg.g_lr, cfg.d_lr, cfg.noise_dim, cfg.disc_iters, cfg.optimizer) == (1e-4, 1e-4, 10, 1, "adam")
    # 2000 of the authors' epochs of 5120 // 100 = 51 generator steps at k = 1; their Adam (0.5, 0.999), z ~ N(0, 1),
    # their ring (README "The toy ring").
    assert (cfg.batch_size, cfg.iterations, cfg.loss) == (100, 102000, "nonsat")
    assert (cfg.g_beta1, cfg.g_beta2, cfg.d_beta1, cfg.d_beta2) == (0.5, 0.999, 0.5, 0.999)
    assert (cfg.noise_type, cfg.toy_ring) == ("normal", "authors")
    assert cfg.sample_interval == 50 * 51   # a plot every 50 of the authors' epochs (--images_while_training 50)
    # Fig. 2.11: k = 5 on the same settings (an epoch of 51 // 5 = 10 generator steps).
    k5 = parse("--gan_type", "gan", "--dataset", "toy", "--disc_iters", "5")
    assert (k5.disc_iters, k5.sample_interval) == (5, 500)


def test_wgan_gp_preset_one_flag_away_and_overridable():
    cfg = parse("--preset", "wgan-gp", "--d_lr", "3e-4")
    assert (cfg.loss, cfg.disc_penalty, cfg.disc_iters, cfg.g_lr, cfg.d_lr) == ("wgan", "wgan-gp", 5, 1e-4, 3e-4)
    assert (cfg.g_beta1, cfg.g_beta2, cfg.d_norm) == (0.0, 0.9, "layer")


def test_fr_layers_range_follows_the_compared_maps():
    # thesis maps of the 32x32 generator: 8x8, 16x16, image -> K up to 3; hidden blocks: 4.
    base = ("--gan_type", "scogan", "--cogan_data", "mnist2edge", "--feature_regulariser")
    assert parse(*base, "--fr_layers", "3").fr_layers == 3
    with pytest.raises(ConfigError, match="3 maps"):
        parse(*base, "--fr_layers", "4")
    assert parse(*base, "--fr_maps", "hidden", "--fr_layers", "4").fr_layers == 4


def test_weight_difference_needs_two_generators():
    assert parse("--log_weight_difference").log_weight_difference
    with pytest.raises(ConfigError, match="two generators"):
        parse("--gan_type", "gan", "--log_weight_difference")


def test_wgan_gp_with_batch_norm_is_refused():
    with pytest.raises(ConfigError, match="BatchNorm"):
        parse("--disc_penalty", "wgan-gp", "--d_norm", "batch")


def test_single_gan_toy():
    cfg = parse("--gan_type", "gan", "--dataset", "toy")
    assert cfg.arch == "toy" and cfg.image_size is None and cfg.shared_layers_g == 0


def test_scogan_style_no_sharing_for_gan():
    with pytest.raises(ConfigError, match="two domains"):
        parse("--gan_type", "gan", "--shared_layers_g", "1")


@pytest.mark.parametrize("argv,msg", [
    (["--shared_layers_g", "5"], "0..4 can be shared"),
    (["--shared_layers_d", "9"], "0..3 can be shared"),
    (["--domain_a", "x"], "both --domain_a and --domain_b"),
    (["--gan_type", "gan", "--cogan_data", "mnist2edge"], "one domain"),
    (["--dataset", "mnist"], "--dataset is for --gan_type gan"),
    (["--arch", "cogan128"], "not 32x32"),
    (["--iterations", "0"], "at least 1"),
    (["--resume", "--overwrite"], "contradict"),
])
def test_incompatible_options(argv, msg):
    with pytest.raises(ConfigError, match=msg):
        parse(*argv)


def test_unknown_choice_exits_2_with_one_line(capsys):
    with pytest.raises(SystemExit) as e:
        parse("--loss", "hinge")
    assert e.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "invalid choice" in err[0]
    with pytest.raises(SystemExit):  # the sizes an architecture makes are the option's choices
        parse("--image_size", "48")
    assert "invalid choice: 48 (choose from 32, 64, 128, 256)" in capsys.readouterr().err


def test_json_round_trip_repeats_the_run(tmp_path):
    cfg = parse("--cogan_data", "mnist2negative", "--seed", "7", "--shared_layers_g", "2")
    cfg.save(tmp_path / "config.json")
    saved = json.loads((tmp_path / "config.json").read_text())
    assert "resume" not in saved and "overwrite" not in saved
    again = parse("--config", str(tmp_path / "config.json"))
    assert again.to_dict() == cfg.to_dict()
    # options on the command line override the file
    assert parse("--config", str(tmp_path / "config.json"), "--seed", "8").seed == 8


def test_resume_reads_the_runs_config(tmp_path):
    cfg = parse("--cogan_data", "mnist2rotate", "--iterations", "10", "--dir", str(tmp_path))
    cfg.save(tmp_path / "config.json")
    resumed = parse("--dir", str(tmp_path), "--resume", "--iterations", "20")
    assert resumed.cogan_data == "mnist2rotate" and resumed.iterations == 20 and resumed.resume


def test_bad_config_files(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        parse("--config", str(tmp_path / "missing.json"))
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ConfigError, match="not valid JSON"):
        parse("--config", str(tmp_path / "bad.json"))
    (tmp_path / "keys.json").write_text(json.dumps({"nonsense": 1}))
    with pytest.raises(ConfigError, match="unknown config keys: nonsense"):
        parse("--config", str(tmp_path / "keys.json"))



# ------------------------------------------------------------------------------------------ config values checked
@pytest.mark.parametrize("saved, says", [
    ({"iterations": "ten"}, '"iterations" must be an integer or null (got "ten")'),
    ({"gan_type": "nosuch"}, '"gan_type" must be one of gan, cogan, scogan, classifier, pix2pix, cyclegan, unit '
                             '(got "nosuch")'),
    ({"loss": "nosuch"}, '"loss" must be one of minimax, nonsat, wgan, lsgan (got "nosuch")'),
    ({"disc_penalty": "nosuch"}, '"disc_penalty" must be one of none, wgan-gp, clip (got "nosuch")'),
    ({"seed": None}, '"seed" must be an integer (got null)'),
    ({"seed": 1.5}, '"seed" must be an integer (got 1.5)'),
    ({"deterministic": "yes"}, '"deterministic" must be true or false (got "yes")'),
    ({"gp_weight": "10"}, '"gp_weight" must be a number (got "10")'),
    ({"cogan_data": 7}, '"cogan_data" must be a string or null (got 7)'),
    ({"celeba_crop": "round"}, '"celeba_crop" must be one of thesis, square (got "round")'),
])
def test_config_file_values_are_checked_like_options(tmp_path, saved, says):
    path = tmp_path / "c.json"
    path.write_text(json.dumps(saved))
    with pytest.raises(ConfigError) as e:
        parse("--config", str(path))
    assert str(e.value) == f"config file {path}: {says}"


def test_config_file_numbers_take_their_fields_types(tmp_path):
    (tmp_path / "c.json").write_text(json.dumps({"g_lr": 1, "gp_weight": 5, "iterations": 7, "xla": False}))
    cfg = parse("--config", str(tmp_path / "c.json"))
    assert (cfg.g_lr, cfg.gp_weight, cfg.iterations) == (1.0, 5.0, 7)
    assert isinstance(cfg.g_lr, float) and isinstance(cfg.gp_weight, float)


def test_a_resumed_runs_config_json_is_checked_too(tmp_path):
    cfg = parse("--dir", str(tmp_path))
    saved = cfg.to_dict()
    saved["loss"] = "hinge"
    (tmp_path / "config.json").write_text(json.dumps(saved))
    with pytest.raises(ConfigError, match=r'config file .*config.json: "loss" must be one of minimax, nonsat, wgan'):
        parse("--dir", str(tmp_path), "--resume")


def test_repeating_a_config_ignores_its_saved_dir_unless_resuming(tmp_path):
    cfg = parse("--dir", str(tmp_path / "a"), "--seed", "5")
    cfg.save(tmp_path / "config.json")
    again = parse("--config", str(tmp_path / "config.json"))
    assert again.dir is None and again.seed == 5  # main.run names a new folder, as for a fresh run
    assert parse("--config", str(tmp_path / "config.json"), "--overwrite").dir is None
    assert parse("--config", str(tmp_path / "config.json"), "--dir", str(tmp_path / "b")).dir == str(tmp_path / "b")
    assert parse("--config", str(tmp_path / "config.json"), "--resume").dir == str(tmp_path / "a")


def test_resume_needs_a_folder():
    with pytest.raises(ConfigError, match="--dir"):
        parse("--resume")


# ---------------------------------------------------------------- one declaration per option (issue 10)
def test_the_parser_is_generated_from_the_config_fields():
    """Every Config field is exactly one option (its dest the field's name, its help the field's), in its
    field's group; the only other options are --config and the modes; no option lacks help."""
    import argparse
    import dataclasses
    import config
    p = config.build_parser()
    actions = [a for a in p._actions if not isinstance(a, argparse._HelpAction)]
    by_dest = {}
    for a in actions:
        assert a.help, a.option_strings
        by_dest.setdefault(a.dest, []).append(a)
    fields = {f.name: f for f in dataclasses.fields(Config)}
    extras = {"config"} | {flag[2:] for flag, _, _ in config.MODES}
    assert set(by_dest) == set(fields) | extras
    assert all(len(v) == 1 for v in by_dest.values())
    titles = {a.dest: g.title for g in p._action_groups for a in g._group_actions}
    for name, f in fields.items():
        (a,) = by_dest[name]
        assert a.help == config.option_help(f) and a.help.startswith(f.metadata["help"])
        assert titles[name] == f.metadata["group"]
        assert (list(a.choices) if a.choices else None) == (list(f.metadata["choices"]) if f.metadata["choices"]
                                                             else None)
    # bool fields are switches: on for a default False, "--no_..." for a default True
    assert by_dest["download"][0].option_strings == ["--no_download"] and by_dest["download"][0].const is False
    assert by_dest["xla"][0].const is True


def test_trainer_registry_and_gan_type_choices_agree():
    import config
    from trainers import TRAINERS, get_trainer
    assert set(TRAINERS) == set(config.GAN_TYPES)
    assert {get_trainer(n).__name__ for n in TRAINERS} == {"GANTrainer", "CoGANTrainer", "SCoGANTrainer",
                                                           "ClassifierTrainer", "Pix2PixTrainer", "CycleGANTrainer",
                                                           "UNITTrainer"}


def test_help_lists_the_modes_and_answers_without_tensorflow(tmp_path):
    """`python main.py --help` and a bad option answer before TensorFlow is imported (README: under a second)."""
    import subprocess
    import sys
    from pathlib import Path
    repo = Path(__file__).resolve().parents[1]
    probe = ("import sys, runpy; sys.argv = ['main.py'] + sys.argv[1:]\n"
             "try:\n    runpy.run_path('main.py', run_name='__main__')\n"
             "except SystemExit as e:\n    code = e.code\n"
             "print('TF_IMPORTED' if 'tensorflow' in sys.modules else 'NO_TF', code, file=sys.stderr)\n")
    for argv, code in ((["--help"], 0), (["--loss", "nosuch"], 2), (["--iterations", "ten"], 2)):
        r = subprocess.run([sys.executable, "-c", probe, *argv], cwd=repo, capture_output=True, text=True, timeout=60)
        assert r.stderr.strip().endswith(f"NO_TF {code}"), r.stderr
    help_text = subprocess.run([sys.executable, "main.py", "--help"], cwd=repo, capture_output=True, text=True).stdout
    for mode in ("--sample RUN", "--evaluate RUN", "--report RUN", "--list_experiments"):
        assert mode in help_text


def test_resolve_checks_architectures_and_classifier_data_without_tensorflow():
    """Issue 19 item 6 (review 3.2): resolve reads the architecture tables (archs.py) and the classifier data
    (data_sources.specs) without importing nets (Keras) or data (TensorFlow). The probe resolves an SCoGAN with
    every coupling term at 128 px (block counts, FR maps, SL's classifier set) and a CoGAN (Table A.1/A.2's
    shared blocks), refuses SL on a pair no classifier can judge, then reports which of those modules were imported."""
    import subprocess
    import sys
    from pathlib import Path
    repo = Path(__file__).resolve().parents[1]
    probe = ("import sys, config\n"
             "c = config.parse_config(['--gan_type', 'scogan', '--cogan_data', 'celeba_Smiling', "
             "'--feature_regulariser', '--fr_layers', '4', '--semantic_loss', '--cycle_consistency', "
             "'--perceptual_loss'], lambda cfg: 128)\n"
             "print(c.arch, c.image_size, c.shared_layers_g, c.shared_layers_d, c.fr_layers)\n"
             "c = config.parse_config(['--cogan_data', 'celeba_Smiling'], lambda cfg: 128)\n"
             "print(c.arch, c.shared_layers_g, c.shared_layers_d)\n"
             "try:\n    config.parse_config(['--gan_type', 'scogan', '--cogan_data', 'apple2orange', "
             "'--semantic_loss'], lambda cfg: 128)\n"
             "except config.ConfigError as e:\n    print(str(e).split(':')[0])\n"
             "print(sorted(m for m in ('tensorflow', 'keras', 'nets', 'data') if m in sys.modules))\n")
    r = subprocess.run([sys.executable, "-c", probe], cwd=repo, capture_output=True, text=True, timeout=60)
    assert r.stdout.splitlines() == ["cogan128 128 0 0 4", "cogan128 5 7", "--semantic_loss without --classifier_path",
                                     "[]"], (r.stdout, r.stderr)


def test_a_resolved_config_is_frozen():
    import dataclasses
    cfg = parse()
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.iterations = 3
    assert dataclasses.replace(cfg, iterations=3).iterations == 3 and cfg.iterations != 3


def test_help_states_the_sample_intervals_resolve_gives():
    """Issue 19: `--help` said "demo sets 50" while the demo resolved 250."""
    import config
    text = config.build_parser().format_help()
    demo = parse().sample_interval
    full = parse("--cogan_data", "mnist2edge").sample_interval
    assert (demo, full) == (250, 500)
    assert f"default {full}, demo sets {demo};" in " ".join(text.split())


# ---------------------------------------------------------------- ranges and resume policies (issue 22, items 2, 5)
def test_every_saved_option_declares_a_resume_policy_and_help_shows_it_with_the_range():
    import dataclasses
    import config
    for f in dataclasses.fields(Config):
        assert f.metadata["on_resume"] in (config.RESUME_POLICIES if f.metadata["saved"] else (None,)), f.name
    text = " ".join(config.build_parser().format_help().split())
    assert "generator Adam beta1 (default from --preset) [[0, 1); on resume: allow]" in text
    assert "generator learning rate (default from --preset) [> 0; on resume: free]" in text
    assert "seeds weights, data order and noise (default 0) [[0, 4294967295]; on resume: fixed]" in text


@pytest.mark.parametrize("option, inside, outside", [
    ("g_beta1", ["0", "0.999"], ["-0.001", "1"]),        # [0, 1)
    ("gp_weight", ["1e-9"], ["0", "-1"]),                 # > 0
    ("weight_decay", ["0", "0.5"], ["-1e-9"]),            # >= 0
    ("seed", ["0", str(2 ** 32 - 1)], ["-1", str(2 ** 32)]),
    ("iterations", ["1"], ["0"]),
    ("prune_threshold", ["0", "0.99"], ["1", "-0.1"]),
])
def test_declared_ranges_include_and_exclude_their_bounds(tmp_path, option, inside, outside):
    import config
    limits = config.option_limits()[option]
    for value in inside:
        assert parse(f"--{option}={value}").to_dict()[option] == pytest.approx(float(value))
    for value in outside:
        with pytest.raises(ConfigError) as e:
            parse(f"--{option}={value}")
        assert str(e.value).startswith(f"--{option} {limits.requirement()} (got ")
        (tmp_path / "c.json").write_text(f'{{"{option}": {value}}}')
        with pytest.raises(ConfigError, match=f'config file .*c.json: "{option}" '):
            parse("--config", str(tmp_path / "c.json"))


def test_every_default_and_preset_value_lies_in_its_range():
    import dataclasses
    import config
    limits = config.option_limits()
    for f in dataclasses.fields(Config):
        if f.name in limits and f.default is not None:
            assert f.default in limits[f.name], f.name
    for name, preset in config.PRESETS.items():
        for k, v in preset.items():
            assert k not in limits or v in limits[k], (name, k, v)


def test_named_experiments_resumed_by_the_same_command_change_nothing(tmp_path):
    """A SLURM requeue repeats `--experiment X --dir D --resume`: no option changes, whichever experiment."""
    import config
    import experiments
    import main
    for name in experiments.EXPERIMENTS:
        d = tmp_path / name
        d.mkdir()
        cfg = parse_config(["--experiment", name, "--dir", str(d)], main._data_defaults)
        cfg.save(d / "config.json")
        resumed = parse_config(["--experiment", name, "--dir", str(d), "--resume"], main._data_defaults)
        assert config.resume_changes(cfg.to_dict(), resumed.to_dict()) == [], name


def test_a_retired_legacy_value_may_be_replaced_on_resume(tmp_path):
    """pl_form 'snapshot' (Config.LEGACY) is no longer computed: its replacement passes though pl_form is fixed,
    while other fixed options stay fixed."""
    cfg = parse("--gan_type", "scogan", "--perceptual_loss", "--dir", str(tmp_path))
    saved = cfg.to_dict()
    saved.pop("pl_form")
    (tmp_path / "config.json").write_text(json.dumps(saved))
    assert parse("--dir", str(tmp_path), "--resume", "--pl_form", "equation").pl_form == "equation"
    with pytest.raises(ConfigError, match="--fr_norm cannot change on resume"):
        parse("--dir", str(tmp_path), "--resume", "--pl_form", "listing", "--fr_norm", "mean")


def test_wgan_preset_is_arjovskys_algorithm_1_and_fills_only_what_is_unset():
    """Issue 20 item 7: WGAN (Arjovsky et al. 2017, Algorithm 1): clipping 0.01, RMSProp 5e-5, 5 critic steps,
    batch 64; explicit options win; Adam chosen under it gets Adam's own default betas."""
    cfg = parse("--gan_type", "gan", "--dataset", "toy", "--preset", "wgan")
    assert (cfg.loss, cfg.disc_penalty, cfg.clip_value, cfg.optimizer) == ("wgan", "clip", 0.01, "rmsprop")
    assert (cfg.g_lr, cfg.d_lr, cfg.disc_iters, cfg.batch_size) == (5e-5, 5e-5, 5, 64)
    cfg = parse("--cogan_data", "mnist2edge", "--preset", "wgan", "--batch_size", "32", "--clip_value", "0.05")
    assert (cfg.batch_size, cfg.clip_value, cfg.disc_iters, cfg.optimizer) == (32, 0.05, 5, "rmsprop")
    cfg = parse("--cogan_data", "mnist2edge", "--preset", "wgan", "--optimizer", "adam")
    assert (cfg.optimizer, cfg.g_beta1, cfg.g_beta2, cfg.d_beta1, cfg.d_beta2) == ("adam", 0.9, 0.999, 0.9, 0.999)
    # Every other preset keeps Adam and its own betas.
    assert (parse("--preset", "dcgan").optimizer, parse("--preset", "dcgan").g_beta1) == ("adam", 0.5)


def test_rmsprop_is_the_wgan_codes_pytorch_rmsprop():
    """optimisers.OPTIMIZERS['rmsprop'] against PyTorch's RMSprop written in NumPy (alpha 0.99, eps 1e-8 added
    after the root: v = 0.99 v + 0.01 g^2; w -= lr g / (sqrt(v) + 1e-8)), three steps. Keras' defaults (rho 0.9,
    epsilon 1e-7 inside the root) end more than 1e-4 away."""
    import numpy as np
    import tensorflow as tf
    from optimisers import make_optimizer

    lr = 5e-5
    w0 = np.array([0.5, -0.2, 0.01, 0.3], np.float32)
    grads = [np.array(g, np.float32) for g in ([0.3, -1.2, 0.02, 5.0], [0.1, 0.4, -0.05, 4.0], [-0.2, 0.9, 0.01, 3.0])]
    w, v = w0.astype(np.float64), np.zeros(4)
    for g in grads:
        v = 0.99 * v + 0.01 * g.astype(np.float64) ** 2
        w = w - lr * g / (np.sqrt(v) + 1e-8)
    var = tf.Variable(w0)
    opt = make_optimizer("rmsprop", lr, None, None)
    for g in grads:
        opt.apply_gradients([(tf.constant(g), var)])
    # Each step moves a weight by lr * g / sqrt(v) <= lr / sqrt(0.01) = 5e-4: float32 rounding of w (|w| <= 0.5) is
    # ~3e-8 per step; 1e-7 is far below the 1e-4-sized difference Keras' defaults would make.
    np.testing.assert_allclose(var.numpy(), w, rtol=0, atol=1e-7)
    keras_defaults, v = w0.astype(np.float64), np.zeros(4)
    for g in grads:
        v = 0.9 * v + 0.1 * g.astype(np.float64) ** 2
        keras_defaults = keras_defaults - lr * g / np.sqrt(v + 1e-7)
    assert np.abs(keras_defaults - w).max() > 1e-4
