"""`FitDoctor`: the diagnosis engine, live, inside anyone's `model.fit`.

In a terminal it logs a line when a finding appears. In a notebook (Jupyter, Colab, Kaggle)
it shows one card that updates in place after each epoch: the loss and accuracy curves,
training and validation, the best epoch and the onset marked, and the current finding.

Example:
    >>> import fitdoctor  # doctest: +SKIP
    >>> model.fit(x, y, validation_split=0.1, epochs=30,
    ...           callbacks=[fitdoctor.FitDoctor(stop_on=("overfitting", "diverged"))])  # doctest: +SKIP
"""

from __future__ import annotations

import math
import os
import time

import keras
import numpy as np

from fitdoctor.diagnosis.engine import diagnose
from fitdoctor.fsio import write_json
from fitdoctor.i18n import _, t
from fitdoctor.report.html import live_card
from fitdoctor.report.notebook import LiveDisplay, in_notebook

WATCHED = ("overfitting", "underfitting", "unstable", "diverged")


def live_findings(diagnosis) -> list:
    """The findings worth flagging during training: the diagnosis's own, of the watched kinds, present now.

    A pure function of the diagnosis, which already holds the early overfitting warning (see
    `fitdoctor.diagnosis.engine.find`): what the callback flags at an epoch is what
    `fitdoctor diagnose` says of the history up to that epoch.
    """
    return [f for f in diagnosis.findings if f.kind in WATCHED and not f.evidence.get("ended")]


class FitDoctor(keras.callbacks.Callback):
    """Run the diagnosis after each epoch; log findings as they appear; optionally stop.

    Args:
        path: Where to write `diagnosis.json` after each epoch (default: nowhere).
        stop_on: Verdicts that stop training, e.g. ("overfitting", "diverged"); default none.
        restore_best_weights: On such a stop, put back the weights of the best epoch
            (lowest val_loss, else loss). Default True.
        sample: Optional `(x, y)` batch to sample per-layer gradient norms and the fraction
            of dead ReLU units on; default None (no sampling).
        stats_every: Sample every N epochs, default 1.
        num_classes: Classes, for the chance-level loss; default: the output units.
        lang: "en" or "pt" for the logged messages; default from the locale.
        verbose: 1 reports findings as they appear, 0 stays silent. Default 1.
        log: Function that takes each finding's line. Default: `print`, except while the live
            display shows the findings.
        live: In a notebook, one display updated in place each epoch instead of log lines.
            Default None: on in Jupyter/Colab/Kaggle, off in a terminal; False turns it off.
        initial_history: When a fit resumes an earlier one, the history so far (each fit
            starts from it). Default: none.
        initial_flagged: When a fit resumes, the epoch each finding was first flagged at.
    """

    def __init__(
        self,
        path: str | os.PathLike | None = None,
        stop_on=(),
        restore_best_weights: bool = True,
        sample=None,
        stats_every: int = 1,
        num_classes: int | None = None,
        lang: str | None = None,
        verbose: int = 1,
        log=None,
        live: bool | None = None,
        initial_history: dict[str, list] | None = None,
        initial_flagged: dict[str, int] | None = None,
    ):
        super().__init__()
        self.path = path
        self.stop_on = tuple(stop_on)
        self.restore_best_weights = restore_best_weights
        self.sample = sample
        self.stats_every = max(1, int(stats_every))
        self.num_classes = num_classes
        self.lang = lang
        self.verbose = verbose
        self.log = log
        self.live = live
        self.display = None  # the live display of the current fit, made in on_train_begin
        self.initial_history = {k: list(v) for k, v in (initial_history or {}).items()}
        self.initial_flagged = dict(initial_flagged or {})
        self.diagnosis = None  # the latest; reset with the rest in on_train_begin
        self.flagged: dict[str, int] = {}
        self.seconds = 0.0
        self._stats = None  # (what it was traced for, compiled function, names); kept across fits

    def on_train_begin(self, logs=None):
        self.history = {k: list(v) for k, v in self.initial_history.items()}
        self.flagged = dict(self.initial_flagged)
        self.stats = {"grad_norms": {}, "dead_relu": {}, "epochs": []}
        self.diagnosis = None
        self.best_value, self.best_weights, self.best_epoch = math.inf, None, None
        self.stopped_reason = None
        self.seconds = 0.0
        self.display = None
        if self.verbose and (self.live if self.live is not None else in_notebook()):
            self.display = LiveDisplay()
        if self.num_classes is None:
            try:
                self.num_classes = int(self.model.output_shape[-1]) or None
            except (AttributeError, TypeError, ValueError):
                self.num_classes = None

    def on_epoch_end(self, epoch, logs=None):
        start = time.perf_counter()
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))
        self._track_best(epoch, logs or {})
        if self.sample is not None and epoch % self.stats_every == 0:
            self._sample_stats(epoch)
        data = dict(self.history)
        if self.stats["epochs"]:
            data["fitdoctor_stats"] = self.stats
        classes = self.num_classes if (self.num_classes or 0) > 1 else None
        self.diagnosis = diagnose(data, lang=self.lang, num_classes=classes)
        found = live_findings(self.diagnosis)
        lang = self.diagnosis.lang
        lines = []
        for f in found:
            if f.kind not in self.flagged:
                self.flagged[f.kind] = epoch + 1
                verdict = t("verdict." + f.kind, lang)
                lines.append(
                    "[fitdoctor] "
                    + _(
                        "epoch {epoch}: {verdict}: {summary}", lang, epoch=epoch + 1, verdict=verdict, summary=f.summary
                    )
                )
        stopped = ""
        stop = [f.kind for f in found if f.kind in self.stop_on]
        if stop:
            self.stopped_reason = stop[0]
            self.model.stop_training = True
            if self.restore_best_weights and self.best_weights is not None:
                self.model.set_weights(self.best_weights)
                stopped = t(
                    "live.stopped",
                    lang,
                    epoch=epoch + 1,
                    reason=t("verdict." + self.stopped_reason, lang),
                    best=self.best_epoch,
                )
                lines.append(f"[fitdoctor] {stopped}")
        if self.display is not None:
            card = live_card(self.history, self.diagnosis, found, self.flagged, epoch + 1, stopped)
            self.display.update(card)
        log = self.log or (None if self.display is not None else print)
        if self.verbose and log is not None:
            for line in lines:
                log(line)
        if self.path:
            self.write(self.path)
        self.seconds += time.perf_counter() - start

    def _track_best(self, epoch: int, logs: dict) -> None:
        value = logs.get("val_loss", logs.get("loss"))
        if not self.stop_on or not self.restore_best_weights or value is None or not np.isfinite(value):
            return
        if value < self.best_value:
            self.best_value, self.best_epoch = float(value), epoch + 1
            self.best_weights = self.model.get_weights()

    def _stats_function(self):
        """One compiled function per fit: kernel gradient norms and dead-ReLU fractions on the sample."""
        import tensorflow as tf

        model = self.model
        kernels = [(layer.name, layer.trainable_weights[0]) for layer in model.layers if layer.trainable_weights]
        relu = [
            layer.name
            for layer in model.layers
            if getattr(getattr(layer, "activation", None), "__name__", "") == "relu"
        ]
        sequential = isinstance(model, keras.Sequential)

        @tf.function(reduce_retracing=True)
        def stats(x, y):
            with tf.GradientTape() as tape:
                pred = model(x, training=False)
                loss = model.compute_loss(x=x, y=y, y_pred=pred)
            grads = tape.gradient(loss, [w for _, w in kernels])
            norms = [tf.norm(g) if g is not None else tf.constant(-1.0) for g in grads]
            dead = []
            if sequential and relu:
                h = x
                for layer in model.layers:
                    h = layer(h, training=False)
                    if layer.name in relu:
                        flat = tf.reshape(h, (tf.shape(h)[0], -1))
                        dead.append(tf.reduce_mean(tf.cast(tf.reduce_all(flat <= 0, axis=0), tf.float32)))
            return norms, dead

        return stats, [name for name, _ in kernels], relu if sequential else []

    def _traced_for(self) -> tuple:
        """What the stats function depends on: the model, its compile() and its variables."""
        model = self.model
        return (model, getattr(model, "_compile_config", None), *model.trainable_variables)

    def _sample_stats(self, epoch: int) -> None:
        # Tracing costs about as much as 40 epochs of stats: trace again only when a later fit
        # brings another model, a new compile() or other variables.
        key = self._traced_for()
        if self._stats is None or not _same_objects(self._stats[0], key):
            self._stats = (key, *self._stats_function())
        _, fn, kernel_names, relu_names = self._stats
        x, y = self.sample
        norms, dead = fn(x, y)
        for name, value in zip(kernel_names, norms, strict=True):
            if float(value) >= 0:
                self.stats["grad_norms"].setdefault(name, []).append(float(value))
        for name, value in zip(relu_names, dead, strict=True):
            self.stats["dead_relu"].setdefault(name, []).append(float(value))
        self.stats["epochs"].append(epoch + 1)

    def write(self, path: str | os.PathLike) -> None:
        """Write the latest diagnosis (plus first-flag epochs and sampled stats) as JSON."""
        if self.diagnosis is None:
            return
        doc = self.diagnosis.to_record()
        doc.update({"flagged": self.flagged, "stopped_reason": self.stopped_reason, "stats": self.stats})
        write_json(path, doc)


def _same_objects(a: tuple, b: tuple) -> bool:
    """Whether two tuples hold the very same objects (identity, not equality), in order."""
    return len(a) == len(b) and all(x is y for x, y in zip(a, b, strict=True))
