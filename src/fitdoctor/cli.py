"""The `fitdoctor` command: one entry point, sub-commands as verbs.

    fitdoctor data inspect|split|undo|clean|pack|unpack|demo-set|photo-set ...
    fitdoctor spec new | train | diagnose | fix | report | demo

Nothing here imports TensorFlow at start-up: each command imports what it needs when it
runs. User errors print one line and exit 2; `--debug` shows the traceback.
"""

from __future__ import annotations

import json
import os
import sys
import traceback

import click

from fitdoctor.errors import UserError
from fitdoctor.i18n import CHOICES as LANG_CHOICES
from fitdoctor.i18n import N_, N_plural, _, ngettext, set_lang
from fitdoctor.model.presets import PRESETS
from fitdoctor.validation import RULES, check_params

MULTI_VALUE_OPTIONS = ("--ratio", "--fixed")


def _join_multi_values(argv: list[str]) -> list[str]:
    """Let `--ratio 0.8 0.1 0.1` through click, which wants one value per option."""
    out: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        out.append(arg)
        i += 1
        if arg in MULTI_VALUE_OPTIONS:
            values = []
            while i < len(argv) and _is_number(argv[i]) and len(values) < 3:
                values.append(argv[i])
                i += 1
            out.append(",".join(values))
    return out


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _numbers(ctx, param, value):
    if value is None:
        return None
    try:
        return tuple(float(v) for v in value.split(",") if v != "")
    except ValueError:
        raise click.BadParameter(_("expected numbers, got {value!r}", value=value)) from None


# Click's own messages (usage, option errors) that fitdoctor's catalog translates; see _speak_through_catalog.
CLICK_MESSAGES = (
    N_("Usage:"),
    N_("Options"),
    N_("Commands"),
    N_("Show this message and exit."),
    N_("Show the version and exit."),
    N_("%(prog)s, version %(version)s"),
    N_("Error: {message}"),
    N_("Try '{command} {option}' for help."),
    N_("Missing argument"),
    N_("Missing option"),
    N_("Missing command."),
    N_("Missing parameter"),
    N_("No such command {name!r}."),
    N_("No such option {name!r}."),
    N_("Option {name!r} does not take a value."),
    N_("Invalid value for {param_hint}: {message}"),
    N_("Invalid value: {message}"),
    N_("Aborted!"),
    N_("{value!r} is not a valid {number_type}."),
    N_("{value} is not in the range {range}."),
    N_("Choose from:\n\t{choices}"),
    N_("default: {default}"),
    N_("Argument {name!r} takes {nargs} values."),
    N_("{name} {filename!r} does not exist."),
)


CLICK_PLURALS = (
    N_plural("Got unexpected extra argument ({args})", "Got unexpected extra arguments ({args})"),
    N_plural("Option {name!r} requires an argument.", "Option {name!r} requires {nargs} arguments."),
    N_plural("{value!r} is not {choice}.", "{value!r} is not one of {choices}."),
    N_plural("Did you mean {possibility}?", "(Did you mean one of: {possibilities}?)"),
)


def _speak_through_catalog() -> None:
    """Make click's own messages ("Usage:", "Missing option", ...) go through fitdoctor's catalog.

    Click translates with the standard library's `gettext.gettext` bound in each of its modules;
    in the `fitdoctor` command those names point to the catalog instead (English stays English).
    """
    import gettext
    import importlib

    for name in ("core", "decorators", "exceptions", "formatting", "parser", "types"):
        module = importlib.import_module(f"click.{name}")
        if getattr(module, "_", None) is gettext.gettext:
            module._ = _
        if getattr(module, "ngettext", None) is gettext.ngettext:
            module.ngettext = ngettext


def _use_lang(lang: str | None) -> None:
    """A --lang given on the command line (the group's or a command's) sets the language of every message."""
    if lang:
        set_lang(lang)


def echo(message: str) -> None:
    click.echo(message, err=True)


LANG_OPTION = click.option(
    "--lang",
    type=click.Choice(LANG_CHOICES),
    default=None,
    help=_("Language (default: FITDOCTOR_LANG, else the locale)."),
)
SEED_OPTION = click.option(
    "--seed",
    type=int,
    default=None,
    help=_(
        "Seed for the weights, the data order and the augmentation. TensorFlow still does not repeat a run bit for bit."
    ),
)


@click.group(
    context_settings={"help_option_names": ["-h", "--help"]},
    help=_(
        "fitdoctor: get image folders ready, train a Keras model from a spec, and see (and fix) whether it "
        "overfits, underfits or fits."
    ),
)
@click.option("--debug", is_flag=True, help=_("Show tracebacks for errors."))
@LANG_OPTION
@click.version_option(package_name="fitdoctor")
@click.pass_context
def cli(ctx: click.Context, debug: bool, lang: str | None) -> None:
    ctx.ensure_object(dict)["debug"] = debug
    _use_lang(lang)


@cli.group(help=_("Inspect, split, clean, pack and unpack image folders (nothing is ever lost)."))
def data() -> None:
    pass


@data.command("inspect", help=_("Decode every image in FOLDER and report classes, problems, duplicates and leakage."))
@click.argument("folder", type=click.Path(path_type=str))
@click.option("--json", "as_json", is_flag=True, help=_("Print one JSON document."))
@click.option("--no-cache", is_flag=True, help=_("Decode every file again, ignoring what earlier scans remembered."))
@click.option(
    "--spec",
    "spec_path",
    type=click.Path(path_type=str),
    help=_("List the images smaller than this spec's image_size."),
)
def data_inspect(folder: str, as_json: bool, no_cache: bool, spec_path: str | None) -> None:
    from fitdoctor.data.inspect import inspect_folder, render

    image_size = None
    if spec_path:
        from fitdoctor.model.spec import load_spec

        image_size = tuple(load_spec(spec_path).raw["data"]["image_size"])
    ins = inspect_folder(folder, progress=not as_json, use_cache=not no_cache, image_size=image_size)
    click.echo(json.dumps(ins.to_dict(), indent=2) if as_json else render(ins))


@data.command("split", help=_("Split SRC (one folder per class) into DST/train, DST/val and DST/test."))
@click.argument("src", type=click.Path(path_type=str))
@click.argument("dst", type=click.Path(path_type=str))
@click.option("--ratio", callback=_numbers, metavar="TRAIN VAL [TEST]", help=_("Fractions that sum to 1."))
@click.option("--fixed", callback=_numbers, metavar="N N [N]", help=_("Files per class for each split."))
@click.option("--seed", type=int, default=1337, show_default=True)
@click.option("--mode", type=click.Choice(["copy", "move", "hardlink", "symlink"]), default="copy", show_default=True)
@click.option("--min-per-class", type=int, default=1, show_default=True, help=_("Files of each class in every split."))
@click.option("--group-by", metavar="REGEX", help=_("Files whose names match the same text stay in one split."))
@click.option("--dry-run", is_flag=True, help=_("Show the plan, write nothing."))
@click.option("--chown", metavar="USER:GROUP", help=_("Owner of every file and folder written."))
@click.option("--no-cache", is_flag=True, help=_("Decode every file again, ignoring what earlier scans remembered."))
def data_split(src, dst, ratio, fixed, seed, mode, min_per_class, group_by, dry_run, chown, no_cache) -> None:
    from fitdoctor.data.split import split_folder

    plan = split_folder(
        src,
        dst,
        ratio=ratio,
        fixed=fixed,
        seed=seed,
        mode=mode,
        min_per_class=min_per_class,
        group_by=group_by,
        dry_run=dry_run,
        chown=chown,
        progress=True,
        echo=echo,
        use_cache=not no_cache,
    )
    counts = plan.counts()
    for split, per_class in counts.items():
        classes = ", ".join(f"{k} {v}" for k, v in per_class.items())
        click.echo(_("{split}: {n} files ({classes})", split=split, n=sum(per_class.values()), classes=classes))
    for row in plan.left_out[:20]:
        click.echo(_("left out: {source}: {reason}", source=row["source"], reason=_(row["reason"])))
    if len(plan.left_out) > 20:
        click.echo(_("left out: ... and {n} more (see left_out.csv)", n=len(plan.left_out) - 20))
    values = {"n": len(plan.ops), "mode": mode, "left": len(plan.left_out)}
    if dry_run:
        click.echo(_("Would place {n} files ({mode}); {left} left out.", **values))
    else:
        manifest = os.path.join(dst, "manifest.csv")
        click.echo(_("Placed {n} files ({mode}); {left} left out. Manifest: {manifest}", manifest=manifest, **values))


@data.command("undo", help=_("Put the files of a --mode move split back where they were."))
@click.argument("dst", type=click.Path(path_type=str))
def data_undo(dst: str) -> None:
    from fitdoctor.data.split import undo_split

    skipped = undo_split(dst, echo=click.echo)[1]
    _fail_on_skipped(skipped, N_("not put back: {path}: {why}"), N_("{n} file(s) could not be put back"))


def _fail_on_skipped(skipped: list[tuple[str, str]], line: str, summary: str) -> None:
    """List the files an undo or restore could not handle, then exit 2 (the rest is done)."""
    for path, why in skipped:
        click.echo(_(line, path=path, why=why), err=True)
    if skipped:
        raise UserError(_(summary, n=len(skipped)) + _(" (listed above). Fix each, then run it again."))


@data.command("clean", help=_("Quarantine unusable files and extra copies of duplicates (nothing is deleted)."))
@click.argument("folder", type=click.Path(path_type=str))
@click.option("--quarantine", "qdir", required=True, type=click.Path(path_type=str), help=_("Where files are moved."))
@click.option("--restore", is_flag=True, help=_("Move quarantined files back."))
@click.option("--dry-run", is_flag=True, help=_("List what would move."))
@click.option("--no-cache", is_flag=True, help=_("Decode every file again, ignoring what earlier scans remembered."))
@click.option(
    "--quality",
    default="",
    metavar="ISSUES",
    help=_(
        "Also quarantine images with these quality findings (comma-separated): dark, light, low_information, blurry, "
        "odd_aspect."
    ),
)
def data_clean(folder: str, qdir: str, restore: bool, dry_run: bool, no_cache: bool, quality: str) -> None:
    from fitdoctor.data.clean import clean_folder, describe, restore_quarantine

    if restore:
        restored, skipped = restore_quarantine(folder, qdir)
        click.echo(_("Restored {restored} files to '{folder}'.", restored=restored, folder=folder))
        why = _("its place is taken; both files are kept")
        _fail_on_skipped(
            [(path, why) for path in skipped],
            N_("not restored: {path}: {why}"),
            N_("{n} file(s) could not be restored"),
        )
        return
    issues = tuple(q.strip() for q in quality.split(",") if q.strip())
    moves = clean_folder(folder, qdir, dry_run=dry_run, use_cache=not no_cache, quality=issues)
    for m in moves:
        click.echo(f"{m['path']}: {describe(m)}")
    if dry_run or not moves:
        click.echo((_("Would quarantine {n} files.") if dry_run else _("Quarantined {n} files.")).format(n=len(moves)))
    else:
        click.echo(_("Quarantined {n} files in '{qdir}' (undo: --restore).", n=len(moves), qdir=qdir))


@data.command("pack", help=_("Pack FOLDER into ARCHIVE (.zip, .tar.gz, .tar.xz by extension)."))
@click.argument("folder", type=click.Path(path_type=str))
@click.argument("archive", type=click.Path(path_type=str))
@click.option("--force", "--overwrite", "force", is_flag=True, help=_("Replace ARCHIVE if it exists."))
def data_pack(folder: str, archive: str, force: bool) -> None:
    from fitdoctor.data.archive import pack

    path = pack(folder, archive, force=force)
    click.echo(_("Wrote {path} ({size} bytes).", path=path, size=path.stat().st_size))


@data.command("unpack", help=_("Unpack ARCHIVE into DEST after checking every member (no path escapes, no bombs)."))
@click.argument("archive", type=click.Path(path_type=str))
@click.argument("dest", type=click.Path(path_type=str))
def data_unpack(archive: str, dest: str) -> None:
    from fitdoctor.data.archive import unpack

    path = unpack(archive, dest)
    click.echo(_("Unpacked {archive} into {path}.", archive=archive, path=path))


@data.command(
    "demo-set", help=_("Write the bundled MNIST digits as DEST/<digit>/<n>.png (LeCun & Cortes, CC BY-SA 3.0).")
)
@click.argument("dest", type=click.Path(path_type=str))
@click.option("--per-class", type=int, default=None, help=_("Digits per class (default 500)."))
def data_demo_set(dest: str, per_class: int | None) -> None:
    from fitdoctor.data.demo_set import write_demo_set

    n = write_demo_set(dest, limit_per_class=per_class)
    click.echo(
        _("Wrote {n} digits to {dest}.", n=n, dest=dest) if n else _("{dest} already holds the demo digits.", dest=dest)
    )


@data.command(
    "photo-set",
    help=_(
        "Write a generated folder of photo-like arrows (up, down, left, right) as DEST/<class>/...: several sizes and"
        " formats, a third stored sideways with an EXIF orientation tag."
    ),
)
@click.argument("dest", type=click.Path(path_type=str))
@click.option("--per-class", type=int, default=50, show_default=True, help=_("Images per class."))
@click.option(
    "--megapixels",
    type=float,
    nargs=2,
    default=(0.05, 0.3),
    show_default=True,
    help=_("Smallest and largest image size, in megapixels."),
)
@click.option(
    "--seed", type=int, default=0, show_default=True, help=_("Which set: the same seed writes the same files.")
)
def data_photo_set(dest: str, per_class: int, megapixels: tuple[float, float], seed: int) -> None:
    from fitdoctor.data.photo_set import write_photo_set

    summary = write_photo_set(dest, per_class=per_class, megapixels=megapixels, seed=seed, workers=None)
    click.echo(
        _(
            "Wrote {files} photo-like images to {dest} ({formats}; {rotated} stored sideways with an EXIF"
            " orientation).",
            files=summary["files"],
            dest=dest,
            formats=", ".join(f"{n} {name}" for name, n in sorted(summary["formats"].items())),
            rotated=summary["exif_rotated"],
        )
    )


@cli.command(
    "diagnose",
    help=_(
        "Read training histories (Keras History JSON, CSVLogger CSV, run directories, Lightning, Hugging Face, "
        "TensorBoard) and say whether the model overfits, underfits or fits, with the evidence and the remedies."
    ),
)
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=str))
@click.option("--json", "as_json", is_flag=True, help=_("One JSON object per input, one per line."))
@LANG_OPTION
@click.option(
    "--classes", "num_classes", type=int, default=None, help=_("Number of classes (for the chance-level loss).")
)
def diagnose_cmd(inputs: tuple[str, ...], as_json: bool, lang: str | None, num_classes: int | None) -> None:
    _use_lang(lang)
    from fitdoctor.diagnosis.engine import diagnose
    from fitdoctor.diagnosis.render import render

    failed = 0
    for i, source in enumerate(inputs):
        try:
            d = diagnose(source, lang=lang, num_classes=num_classes)
        except UserError as exc:
            failed += 1
            if as_json:
                click.echo(json.dumps({"source": source, "error": str(exc)}, ensure_ascii=False))
            click.echo(_("Error: {exc}", exc=exc), err=True)
            continue
        if as_json:
            click.echo(json.dumps(d.to_dict(), ensure_ascii=False, allow_nan=False))
        else:
            click.echo(("\n" if i else "") + render(d))
    if failed:
        raise click.exceptions.Exit(2)


@cli.group(help=_("Write training specs."))
def spec() -> None:
    pass


@spec.command("new", help=_("Print a commented starting spec (save it with '> spec.yaml')."))
@click.option("--preset", type=click.Choice(PRESETS), default="small-cnn", show_default=True)
@LANG_OPTION
def spec_new(preset: str, lang: str | None) -> None:
    _use_lang(lang)
    from fitdoctor.model.presets import preset_text

    click.echo(preset_text(preset, lang), nl=False)


@cli.command("train", help=_("Train the model of SPEC on a split folder, watched live by the FitDoctor callback."))
@click.argument("spec", type=click.Path(path_type=str))
@click.option(
    "--data", "data_dir", required=True, type=click.Path(path_type=str), help=_("Split folder (train/ val/ test/).")
)
@click.option("--run", "run_dir", required=True, type=click.Path(path_type=str), help=_("Run directory to write."))
@click.option("--epochs", type=int, default=None, help=_("Override the spec's fit.epochs."))
@SEED_OPTION
@click.option("--resume", is_flag=True, help=_("Continue an interrupted run from its last finished epoch."))
@click.option(
    "--distribute",
    type=click.Choice(["none", "mirrored", "multi_worker"]),
    default=None,
    help=_("tf.distribute strategy (overrides the spec)."),
)
def train_cmd(spec, data_dir, run_dir, epochs, seed, resume, distribute) -> None:
    check_params({"epochs": epochs, "seed": seed, "distribute": distribute}, RULES["train"], "train")
    from fitdoctor.model.spec import load_spec
    from fitdoctor.tfimport import import_quietly

    spec = load_spec(spec)  # every mistake in the spec is reported before TensorFlow loads
    import_quietly()
    from fitdoctor.training.run import train

    train(spec, data_dir, run_dir, epochs=epochs, seed=seed, resume=resume, distribute=distribute, echo=click.echo)


@cli.command("fix", help=_("Treat overfitting and underfitting in a closed loop: diagnose, apply remedies, retrain."))
@click.argument("spec", type=click.Path(path_type=str))
@click.option(
    "--data", "data_dir", required=True, type=click.Path(path_type=str), help=_("Split folder (train/ val/ test/).")
)
@click.option("--run", "run_dir", required=True, type=click.Path(path_type=str), help=_("Run directory to write."))
@click.option("--max-rounds", type=int, default=4, show_default=True)
@click.option(
    "--budget-epochs",
    type=int,
    default=None,
    help=_("Most epochs over all rounds (default 4x the spec's)."),
)
@SEED_OPTION
@LANG_OPTION
@click.option("--resume", is_flag=True, help=_("Continue an interrupted fix run."))
def fix_cmd(spec, data_dir, run_dir, max_rounds, budget_epochs, seed, lang, resume) -> None:
    _use_lang(lang)
    values = {"max_rounds": max_rounds, "budget_epochs": budget_epochs, "seed": seed, "lang": lang}
    check_params(values, RULES["fix"], "fix")
    from fitdoctor.model.spec import load_spec
    from fitdoctor.tfimport import import_quietly
    from fitdoctor.treatment.loop import fix

    spec = load_spec(spec)  # every mistake in the spec is reported before TensorFlow loads
    import_quietly()
    fix(
        spec,
        data_dir,
        run_dir,
        max_rounds=max_rounds,
        budget_epochs=budget_epochs,
        seed=seed,
        lang=lang,
        resume=resume,
        echo=click.echo,
    )


@cli.command(
    "lr-find",
    help=_("Measure a learning rate for SPEC: the range test (1e-7 to 10 over --steps batches), weights untouched."),
)
@click.argument("spec", type=click.Path(path_type=str))
@click.option(
    "--data", "data_dir", required=True, type=click.Path(path_type=str), help=_("Split folder (train/ is used).")
)
@click.option(
    "--run", "run_dir", required=True, type=click.Path(path_type=str), help=_("Folder for lr-find.png/.json.")
)
@click.option("--steps", type=int, default=100, show_default=True, help=_("Batches the range spans."))
@SEED_OPTION
@LANG_OPTION
def lr_find_cmd(spec, data_dir, run_dir, steps, seed, lang) -> None:
    _use_lang(lang)
    check_params({"steps": steps, "seed": seed, "lang": lang}, RULES["lr_find"], "lr_find")
    from fitdoctor.model.spec import load_spec
    from fitdoctor.tfimport import import_quietly

    spec = load_spec(spec)  # every mistake in the spec is reported before TensorFlow loads
    import_quietly()
    from fitdoctor.training.lr_find import lr_find

    click.echo(str(lr_find(spec, data_dir, run_dir, steps=steps, seed=seed, lang=lang)))


@cli.command(
    "report", help=_("Write a self-contained HTML report of a train or fix run (plots saved beside it as PNG).")
)
@click.argument("run_dir", type=click.Path(path_type=str))
@click.option("--out", type=click.Path(path_type=str), default=None, help=_("HTML file (default RUNDIR/report.html)."))
@LANG_OPTION
@click.option("--force", is_flag=True, help=_("Write over an existing --out file (never over the run's own files)."))
def report_cmd(run_dir: str, out: str | None, lang: str | None, force: bool) -> None:
    _use_lang(lang)
    from fitdoctor.report.html import build_report

    path = build_report(run_dir, out, lang, force=force)
    click.echo(_("Report: {path}", path=path))


@cli.command("demo", help=_("The whole story on the bundled digits: folders, inspect, split, fix, report."))
@click.option("--workdir", type=click.Path(path_type=str), default="fitdoctor-demo", show_default=True)
@LANG_OPTION
@click.option("--fresh", is_flag=True, help=_("Start over (removes only what the demo made)."))
def demo_cmd(workdir: str, lang: str | None, fresh: bool) -> None:
    _use_lang(lang)
    from fitdoctor.demo import run_demo
    from fitdoctor.tfimport import import_quietly

    import_quietly()
    run_demo(workdir, lang=lang, fresh=fresh, echo=click.echo)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit code (0 ok, 1 internal error, 2 user error)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    _speak_through_catalog()
    args = _join_multi_values(list(sys.argv[1:] if argv is None else argv))
    debug = "--debug" in args
    try:
        code = cli.main(args=args, prog_name="fitdoctor", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo(_("Aborted."), err=True)
        return 130
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return 2
    except UserError as exc:
        if debug:
            traceback.print_exc()
        click.echo(_("Error: {exc}", exc=exc), err=True)
        return 2
    except KeyboardInterrupt:
        click.echo(_("Interrupted."), err=True)
        return 130
    except Exception as exc:
        if debug:
            traceback.print_exc()
        if isinstance(exc, OSError) and exc.filename:  # the user's disk: read-only, full, gone
            click.echo(
                _(
                    "Error: '{path}' cannot be used ({reason}). Check that the folder exists, is writable and has "
                    "free space; nothing else was changed.",
                    path=exc.filename,
                    reason=exc.strerror or type(exc).__name__,
                ),
                err=True,
            )
            return 2
        click.echo(
            _("Internal error: {name}: {exc} (run with --debug for the traceback)", name=type(exc).__name__, exc=exc),
            err=True,
        )
        return 1
    return code if isinstance(code, int) else 0
