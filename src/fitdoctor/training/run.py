"""`fitdoctor train`: a spec and a split folder in, a complete run directory out.

RUNDIR's files are listed in `fitdoctor.rundir`, which reads and writes them.
A run killed at any moment continues with `resume=True` from its last finished epoch.
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from fitdoctor.i18n import _

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from fitdoctor.errors import UserError  # noqa: E402
from fitdoctor.fsio import LOCK_NAME, exclusive, write_text  # noqa: E402
from fitdoctor.model.spec import Spec, load_spec  # noqa: E402
from fitdoctor.rundir import BEST, DIAGNOSIS, LAST, LOG, METRICS, SPEC, RunDir  # noqa: E402
from fitdoctor.validation import RULES, validate_params  # noqa: E402

SAMPLE_SIZE = 64


@dataclass
class RunResult:
    """What a finished run produced."""

    run_dir: Path
    history: dict
    diagnosis: object
    metrics: dict
    epochs: int
    warnings: list[str] = field(default_factory=list)

    def _repr_html_(self) -> str:
        """The notebook card: the run's numbers and the diagnosis of its history."""
        from fitdoctor.report.html import run_card

        return run_card(self)


class _Log:
    """Echo a line and append it to run.log."""

    def __init__(self, path: Path | None, echo):
        self.path, self.echo = path, echo

    def __call__(self, line: str) -> None:
        if self.echo:
            self.echo(line)
        if self.path:
            with open(self.path, "a", encoding="utf-8") as f:
                f.write(time.strftime("%H:%M:%S ") + line + "\n")


def _epoch_logger(log, total: int):
    import keras

    class EpochLog(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            parts = " ".join(f"{k} {v:.4f}" for k, v in (logs or {}).items() if k != "learning_rate")
            log(
                _(
                    "epoch {epoch}/{total}: {parts} ({start:.1f}s)",
                    epoch=epoch + 1,
                    total=total,
                    parts=parts,
                    start=time.perf_counter() - self.start,
                )
            )

    return EpochLog()


def _prepare_run_dir(run_dir: Path, resume: bool) -> dict | None:
    from fitdoctor.training.state import recover

    if run_dir.exists() and any(p.name != LOCK_NAME for p in run_dir.iterdir()):
        if not resume:
            raise UserError(
                _(
                    "Run directory '{run_dir}' is not empty. Pass --resume to continue it, or a new --run folder.",
                    run_dir=run_dir,
                )
            )
        return recover(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    return None


@validate_params(RULES["train"], where="train")
def train(
    spec,
    data: str | os.PathLike,
    run_dir: str | os.PathLike,
    *,
    epochs: int | None = None,
    seed: int | None = None,
    resume: bool = False,
    distribute: str | None = None,
    evaluate_test: bool = True,
    echo=print,
) -> RunResult:
    """Train a spec on a split folder into a run directory.

    Args:
        spec: Path to a YAML spec, a YAML string, a dict or a `Spec`.
        data: A folder with train/, val/ (and test/), one folder per class inside.
        run_dir: Where the run's files go (new, or an unfinished run with `resume`).
        epochs: Overrides the spec's `fit.epochs`.
        seed: Seeds the weights, the data order and the augmentation (`keras.utils.set_random_seed`).
            TensorFlow still does not repeat a run bit for bit. That needs
            `tf.config.experimental.enable_op_determinism()`, which is slower; TensorFlow's
            documentation warns that a `Dataset.map` with stateful functions, such as the streaming
            decoder, can become orders of magnitude slower.
        resume: Continue an interrupted run from its last finished epoch.
        distribute: "none", "mirrored" or "multi_worker" (overrides the spec).
        evaluate_test: Evaluate the best model on the test split at the end (default True).
        echo: Function for progress lines (default print; None for silence).
    """
    from fitdoctor.training.distribute import get_strategy, is_chief

    spec = load_spec(spec)
    if epochs is not None:
        spec.raw["fit"]["epochs"] = int(epochs)
    if seed is not None:
        spec.raw["fit"]["seed"] = int(seed)
    seed = spec.raw["fit"].get("seed")
    kind = distribute or str(spec.raw.get("distribute") or "none")
    spec.raw["distribute"] = kind
    run_dir = Path(run_dir)
    strategy = get_strategy(kind)
    if kind == "multi_worker" and not is_chief():
        run_dir = Path(tempfile.mkdtemp(prefix="fitdoctor-worker-"))
    if run_dir.exists() and not run_dir.is_dir():
        raise UserError(_("Run directory '{run_dir}' is a file. Pass a folder for --run.", run_dir=run_dir))
    with exclusive(run_dir, "train"):  # one writer per run directory
        state = _prepare_run_dir(run_dir, resume)
        if state:
            seed = _resumable_spec(run_dir, spec)
        log = _Log(run_dir / LOG, echo)
        return _train(spec, Path(data), run_dir, state, strategy, seed, evaluate_test, log)


RESUME_MAY_CHANGE = {"fit": ("epochs", "seed"), "distribute": None}  # None: the whole section


def _resumable_spec(run_dir: Path, spec: Spec) -> int | None:
    """Refuse to resume a run with another spec than it started with; returns the run's seed.

    Only `fit.epochs` (to train longer), `fit.seed` and `distribute` may differ. Without a
    new seed, the run keeps the one it started with.
    """
    saved_path = run_dir / SPEC
    if not saved_path.exists():
        return spec.raw["fit"].get("seed")
    saved = load_spec(saved_path).raw
    changed = [k for k in sorted(set(saved) | set(spec.raw)) if _part(saved, k) != _part(spec.raw, k)]
    if changed:
        raise UserError(
            _(
                "Run directory '{run_dir}' was started with another spec ({changed} differ). Resume with the spec "
                "saved in '{saved_path}', or pass a new --run folder.",
                run_dir=run_dir,
                changed=", ".join(changed),
                saved_path=saved_path,
            )
        )
    if spec.raw["fit"].get("seed") is None:
        spec.raw["fit"]["seed"] = saved["fit"].get("seed")
    return spec.raw["fit"].get("seed")


def _part(raw: dict, key: str):
    if key not in RESUME_MAY_CHANGE:
        return raw.get(key)
    free = RESUME_MAY_CHANGE[key]
    return None if free is None else {k: v for k, v in (raw.get(key) or {}).items() if k not in free}


def _train(spec: Spec, data_dir: Path, run_dir: Path, state, strategy, seed, evaluate_test: bool, log) -> RunResult:
    """The steps of a run: load and build, fit with the run's callbacks, evaluate, record."""
    import keras
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")
    run = RunDir(run_dir)
    tune = spec.raw["fit"].get("fine_tune")
    done = int(state["epoch"]) if state else 0
    boundary = state.get("boundary") if state else None  # the epoch the head phase ended, once fine-tuning began
    total = (
        int(spec.raw["fit"]["epochs"])
        if not tune
        else (boundary or int(spec.raw["fit"]["epochs"])) + int(tune["epochs"])
    )
    # A callback (EarlyStopping) ended the run; with fine_tune, only a stop in the fine-tuning phase ends it.
    stopped = bool(state and state.get("stopped") and (not tune or boundary is not None))
    if state and (done >= total or stopped) and (run / METRICS).exists():
        log(_("Run '{run_dir}' already finished {done} epochs; nothing to do.", run_dir=run_dir, done=done))
        return _result_from_dir(run)
    if seed is not None:
        keras.utils.set_random_seed(int(seed) + done)
    data, built = _load_and_build(spec, data_dir, run, state, strategy, log)
    info = _run_info(spec, data, built, data_dir, seed)
    write_text(run / SPEC, spec.to_yaml())
    run.write_info(info)
    train_ds, val_ds = _datasets(spec, data, built, strategy, seed)
    doctor, saver, callbacks = _callbacks(spec, data, built, strategy, run, state, total, log)
    start = time.perf_counter()
    if stopped:
        log(_("Training had stopped after epoch {done}; finishing the run without more epochs.", done=done))
    else:
        boundary = _fit(spec, data, built, (train_ds, val_ds), callbacks, saver, done, boundary, strategy, log)
    if tune and boundary is not None:
        total = boundary + int(tune["epochs"])
    seconds = time.perf_counter() - start
    metrics = _evaluate(run, data, built, evaluate_test)
    if doctor.diagnosis is not None:
        doctor.write(run / DIAGNOSIS)
    from fitdoctor.diagnosis.engine import diagnose

    diagnosis = diagnose(run_dir)  # the run's one offline diagnosis: the history with the run's facts
    epochs_run = len(next(iter(saver.history.values()), []))
    info.update(
        {
            "finished": True,
            "epochs_run": epochs_run,
            "fit_seconds": round(seconds, 2),
            "stopped_early": epochs_run < total,
            "doctor_seconds": round(doctor.seconds, 3),
            **({"fine_tune_from_epoch": boundary + 1} if boundary is not None else {}),
        }
    )
    run.write_info(info)
    split = "test" if "test" in metrics else "val"
    log(
        _(
            "Done: {epochs_run} epochs in {seconds:.1f}s; verdict {verdict}; {split} accuracy {accuracy:.4f}. Run: "
            "{run_dir}",
            epochs_run=epochs_run,
            seconds=seconds,
            verdict=diagnosis.verdict,
            split=split,
            accuracy=metrics[split]["accuracy"],
            run_dir=run_dir,
        )
    )
    return RunResult(run_dir, saver.history, diagnosis, metrics, epochs_run, built.warnings)


def _load_and_build(spec: Spec, data_dir: Path, run: RunDir, state, strategy, log):
    """The data as the spec reads it, and the model: built, or the run's last model on resume."""
    import keras

    from fitdoctor.data.loader import load_for_spec
    from fitdoctor.model.build import build_model, recompile

    data = load_for_spec(data_dir, spec)
    log(_("Data: {how}.", how=data.how))
    with strategy.scope():
        built = build_model(spec, data.num_classes, (*data.image_size, data.channels))
        if state and (run / LAST).exists():
            built.model = recompile(keras.saving.load_model(run / LAST), spec, data.num_classes, built.one_hot)
            log(_("Resuming '{path}' after epoch {epoch}.", path=run.path, epoch=state["epoch"]))
    for w in built.warnings:
        log(_("Warning: {warning}", warning=w))
    return data, built


def _run_info(spec: Spec, data, built, data_dir: Path, seed) -> dict:
    """What `run.json` says of the run before it trains (`_train` adds the timings at the end)."""
    return {
        "num_classes": data.num_classes,
        "class_names": data.class_names,
        "loss": built.loss_name,
        "data": str(data_dir.resolve()),
        "counts": data.counts,
        "seed": seed,
        "finished": False,
        "one_hot": built.one_hot,
        "distribute": spec.raw["distribute"],
    }


def _datasets(spec: Spec, data, built, strategy, seed):
    """The training and validation `tf.data` pipelines; under multi_worker each worker reads its shard."""
    import tensorflow as tf

    batch = int(spec.raw["data"]["batch_size"])
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    shard = None
    if data.streaming and spec.raw["distribute"] == "multi_worker":  # each worker decodes only its files
        resolver = strategy.cluster_resolver
        shard = (max(1, len(resolver.cluster_spec().as_dict().get("worker", []))), int(resolver.task_id or 0))
        options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.OFF
    train_ds = data.dataset(
        "train",
        batch_size=batch,
        shuffle=True,
        seed=seed,
        one_hot=built.one_hot,
        augment=built.augmentation,
        shard=shard,
    ).with_options(options)
    val_ds = data.dataset("val", batch_size=batch, one_hot=built.one_hot, shard=shard).with_options(options)
    return train_ds, val_ds


def _callbacks(spec: Spec, data, built, strategy, run: RunDir, state, total: int, log):
    """The spec's callbacks, then the checkpoint, the live FitDoctor, the epoch log and the run's state saver.

    On resume each one starts from the committed epoch: the history, the first-flag epochs
    and the callbacks' counters come from `state.json`.
    """
    import numpy as np

    from fitdoctor.model.build import checkpoint_settings, make_callbacks
    from fitdoctor.training.callback import FitDoctor
    from fitdoctor.training.checkpoint import AtomicModelCheckpoint
    from fitdoctor.training.state import RunState

    x_sample = data.images("train", SAMPLE_SIZE).astype("float32") / 255.0
    y_sample = data.labels["train"][:SAMPLE_SIZE]
    if built.one_hot:
        y_sample = np.eye(data.num_classes, dtype="float32")[y_sample]
    user_callbacks = make_callbacks(spec, run.path)
    ck = checkpoint_settings(spec)
    journal: list = []  # model files written this epoch, renamed once state.json commits it
    checkpoint = AtomicModelCheckpoint(
        str(run / BEST), monitor=ck["monitor"], mode=ck["mode"], save_best_only=True, verbose=0, journal=journal
    )
    multi_worker = spec.raw["distribute"] == "multi_worker"
    if multi_worker:
        from fitdoctor.training import mwms_compat

        mwms_compat.enable(built.model, strategy, (x_sample, y_sample))
    history = run.history(int(state["epoch"])) if state else {}
    doctor = FitDoctor(
        path=run / DIAGNOSIS,
        sample=None if multi_worker else (x_sample, y_sample),
        num_classes=data.num_classes,
        verbose=1,
        log=log,
        initial_history=history,
        initial_flagged=state.get("flagged", {}) if state else None,
    )
    tracked = [*user_callbacks, checkpoint]
    saver = RunState(run.path, tracked, history, doctor, journal, saved_callbacks=state["callbacks"] if state else None)
    return doctor, saver, [*user_callbacks, checkpoint, doctor, _epoch_logger(log, total), saver]


def _fit(spec: Spec, data, built, datasets, callbacks, saver, done: int, boundary: int | None, strategy, log):
    """`model.fit` from epoch `done`, in two phases when the spec has `fit.fine_tune`; returns the epoch
    the head phase ended (None without fine-tuning).

    Fine-tuning is Keras's recipe: the head trains with the base frozen for `fit.epochs` (EarlyStopping
    may end that phase early), then the top `unfreeze` layers of the base become trainable (its
    BatchNormalization layers stay frozen), the model is compiled again with the low rate, and training
    continues for `fine_tune.epochs`; the history is one curve, and `state.json` records the boundary,
    so `--resume` continues in the right phase (the unfrozen model and its optimizer are in `last.keras`).
    """
    tune = spec.raw["fit"].get("fine_tune")
    head = int(spec.raw["fit"]["epochs"])
    train_ds, val_ds = datasets
    if not tune:
        _fit_phase(spec, data, built, train_ds, val_ds, callbacks, head, done)
        return None
    if boundary is None:
        saver.phase = {"boundary": None}
        if done < head:
            _fit_phase(spec, data, built, train_ds, val_ds, callbacks, head, done)
        boundary = done = len(next(iter(saver.history.values()), []))
        built.model.stop_training = False
        with strategy.scope():
            _start_fine_tuning(spec, data, built, tune, boundary, log)
    saver.phase = {"boundary": boundary}
    for cb in callbacks:  # the live FitDoctor tells one story: the fine-tuning epochs follow the head's
        if hasattr(cb, "initial_history"):
            cb.initial_history = {k: list(v) for k, v in saver.history.items()}
            cb.initial_flagged = dict(cb.flagged)
    _fit_phase(spec, data, built, train_ds, val_ds, callbacks, boundary + int(tune["epochs"]), done)
    return boundary


def _start_fine_tuning(spec: Spec, data, built, tune: dict, boundary: int, log) -> None:
    """Unfreeze the top of the base and compile again with the fine-tuning rate."""
    from fitdoctor.model.applications import is_base, unfreeze
    from fitdoctor.model.build import recompile, resolve_optimizer

    unfrozen = 0
    for layer in built.model.layers:
        if is_base(layer):
            unfrozen += unfreeze(layer, tune.get("unfreeze", "all"))
    rate = float(tune.get("learning_rate", 1e-5))
    recompile(built.model, spec, data.num_classes, built.one_hot, optimizer=resolve_optimizer(spec, learning_rate=rate))
    log(
        _(
            "Fine-tuning from epoch {epoch}: {layers} layers of the base unfrozen (BatchNormalization stays frozen),"
            " learning rate {rate:g}.",
            epoch=boundary + 1,
            layers=unfrozen,
            rate=rate,
        )
    )


def _fit_phase(spec: Spec, data, built, train_ds, val_ds, callbacks, total: int, done: int) -> None:
    """One `model.fit` from epoch `done` to `total`; a Keras or TensorFlow error becomes one line with its cause."""
    class_weight = data.class_weights()
    try:
        built.model.fit(
            train_ds,
            validation_data=val_ds,
            epochs=total,
            initial_epoch=done,
            callbacks=callbacks,
            class_weight=class_weight,
            shuffle=False,
            verbose=0,
        )
    except (UserError, KeyboardInterrupt, MemoryError):
        raise
    except Exception as exc:  # Keras and TensorFlow raise many types: one line with the likely cause
        raise UserError(
            _(
                "Keras stopped training ({exc}). The likely cause: the loss, a metric and the output layer of "
                "{source} do not go together ({num_classes} classes, {labels} labels, loss {loss_name}). Fix the "
                "compile section.",
                exc=keras_error_line(exc),
                source=spec.source,
                num_classes=data.num_classes,
                labels=_("one-hot") if built.one_hot else _("integer"),
                loss_name=built.loss_name,
            )
        ) from exc


def _evaluate(run: RunDir, data, built, evaluate_test: bool) -> dict:
    """The best model on the validation split (and the test split when asked), written to metrics.json."""
    import keras

    from fitdoctor.training.evaluate import evaluate_split

    best_model = keras.saving.load_model(run / BEST) if (run / BEST).exists() else built.model
    val = evaluate_split(best_model, data, "val", one_hot=built.one_hot)
    test = None
    if evaluate_test and "test" in data.labels:
        test = evaluate_split(best_model, data, "test", one_hot=built.one_hot)
    run.write_metrics(val, test)
    return run.metrics()


def keras_error_line(exc: BaseException) -> str:
    """The one telling line of a Keras/TensorFlow error (its last plain line, not the graph trace).

    Example:
        >>> trace = "Graph execution error:\\n\\nDetected at node X\\nshapes [32] and [320] differ\\n\\t [[{{node X}}]]"
        >>> keras_error_line(ValueError(trace))
        'ValueError: shapes [32] and [320] differ'
    """
    lines = [line.strip() for line in str(exc).splitlines()]
    plain = [
        line
        for line in lines
        if line
        and not line.startswith(("[[", "File ", "Detected at node", "Graph execution error"))
        and line[0] != "\t"
    ]
    text = plain[-1] if plain else (lines[0] if lines else "")
    return f"{type(exc).__name__}: {text[:200]}"


def _result_from_dir(run: RunDir) -> RunResult:
    from fitdoctor.diagnosis.engine import diagnose

    history = run.history()
    return RunResult(run.path, history, diagnose(run.path), run.metrics(), len(next(iter(history.values()), [])))
