"""The learning-rate range test (Leslie Smith; fastai's `lr_find`): measure a good rate instead of guessing.

The rate grows exponentially from `start_lr` to `end_lr` over `steps` batches while the loss
is recorded (smoothed, bias-corrected as fastai does); the test stops once the smoothed loss
passes 4x its best, and the weights and optimizer state are put back. The suggestions are
fastai's: `valley` (the default: the middle of the longest stretch over which the loss
keeps falling), `steep` (the steepest fall) and `minimum` (the rate of the lowest loss, / 10).

Example:
    >>> import fitdoctor
    >>> result = fitdoctor.lr_find("spec.yaml", "split/", "runs/lr")  # doctest: +SKIP
    >>> print(result)  # doctest: +SKIP
    Suggested learning rate: 1.1e-03 (valley); steep 3.2e-03, minimum/10 5.0e-04. Plot: runs/lr/lr-find.png
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np

from fitdoctor.errors import UserError
from fitdoctor.i18n import _
from fitdoctor.validation import RULES, validate_params

STOP_FACTOR = 4.0
SMOOTHING = 0.98


def suggestions(lrs, losses) -> dict[str, float]:
    """fastai's three suggestions from a range test, skipping its first 10% and last 5 points.

    Example:
        >>> lrs = np.logspace(-7, 1, 100)
        >>> losses = 2.3 - 2.0 / (1 + np.exp(-(np.log10(lrs) + 4) * 2)) + np.exp(np.log10(lrs) + 1.5)
        >>> {k: f"{v:.0e}" for k, v in suggestions(lrs, losses).items()}
        {'valley': '3e-05', 'steep': '8e-05', 'minimum': '2e-04'}
    """
    lrs, losses = np.asarray(lrs, float), np.asarray(losses, float)
    n = len(lrs)
    lrs, losses = lrs[n // 10 : max(n // 10 + 3, n - 5)], losses[n // 10 : max(n // 10 + 3, n - 5)]
    if len(lrs) < 3 or not np.isfinite(losses).any():
        raise UserError(_("The range test recorded too few finite losses to suggest a rate. Pass more --steps."))
    finite = np.isfinite(losses)
    lrs, losses = lrs[finite], losses[finite]
    longest = np.ones(len(losses), int)  # longest decreasing run ending at each point (fastai's valley)
    start, end = 0, 0
    for i in range(1, len(losses)):
        for j in range(i):
            if losses[i] < losses[j] and longest[i] < longest[j] + 1:
                longest[i] = longest[j] + 1
            if longest[end] < longest[i]:
                end, start = i, i - longest[i]
    third = (end - start) / 3
    valley = lrs[min(len(lrs) - 1, start + int(third) + int(third / 2))]
    grads = np.diff(losses) / np.diff(np.log(lrs))
    return {
        "valley": float(valley),
        "steep": float(lrs[int(np.argmin(grads))]),
        "minimum": float(lrs[int(np.argmin(losses))] / 10),
    }


def _lr_variable(model):
    lr = getattr(model.optimizer, "learning_rate", None)
    if lr is None or not hasattr(lr, "assign"):
        raise UserError(
            _(
                "The range test sets the learning rate batch by batch, which a schedule does not allow. Give the "
                "optimizer a constant learning_rate for lr-find."
            )
        )
    return lr


class LRFinder(keras.callbacks.Callback):
    """The range test inside anyone's `model.fit`: `.lrs`, `.losses` and `.suggestions()` once `fit` returns.

    Fit at least `steps` batches; the callback stops training itself, then puts the weights,
    the optimizer state and the learning rate back.

    Args:
        start_lr, end_lr: The range, default 1e-7 to 10.
        steps: Batches to spread it over, default 100.

    Example:
        >>> finder = LRFinder(steps=100)  # doctest: +SKIP
        >>> model.fit(x, y, epochs=1, callbacks=[finder])  # doctest: +SKIP
        >>> finder.suggestions()["valley"]  # doctest: +SKIP
    """

    def __init__(self, start_lr: float = 1e-7, end_lr: float = 10.0, steps: int = 100):
        super().__init__()
        self.start_lr, self.end_lr, self.steps = float(start_lr), float(end_lr), int(steps)
        self.lrs: list[float] = []
        self.losses: list[float] = []

    def on_train_begin(self, logs=None):
        self.lrs, self.losses, self._avg, self._best, self._mean = [], [], 0.0, math.inf, 0.0
        optimizer = self.model.optimizer
        if not optimizer.built:  # its slots exist from the first step: make them now, to save them
            optimizer.build(self.model.trainable_variables)
        self._saved = (self.model.get_weights(), [v.numpy() for v in optimizer.variables])
        self._lr = _lr_variable(self.model)
        self._lr_before = float(self._lr.numpy())
        self._lr.assign(self.start_lr)

    def on_train_batch_end(self, batch, logs=None):
        # Keras reports the epoch's running mean; the range test needs each batch's own loss
        mean = float((logs or {}).get("loss", math.nan))
        step = len(self.lrs)
        loss = (step + 1) * mean - step * self._mean
        self._mean = mean
        self._avg = SMOOTHING * self._avg + (1 - SMOOTHING) * loss
        smooth = self._avg / (1 - SMOOTHING ** (step + 1))
        self.lrs.append(float(self._lr.numpy()))
        self.losses.append(smooth)
        self._best = min(self._best, smooth) if math.isfinite(smooth) else self._best
        if step + 1 >= self.steps or not math.isfinite(smooth) or smooth > STOP_FACTOR * self._best:
            self.model.stop_training = True
            return
        ratio = (self.end_lr / self.start_lr) ** (1 / max(1, self.steps - 1))
        self._lr.assign(self.lrs[-1] * ratio)

    def on_train_end(self, logs=None):
        weights, optimizer_state = self._saved
        self.model.set_weights(weights)
        for variable, value in zip(self.model.optimizer.variables, optimizer_state, strict=True):
            variable.assign(value)
        self._lr.assign(self._lr_before)

    def suggestions(self) -> dict[str, float]:
        """fastai's suggestions (`valley`, `steep`, `minimum`) from the recorded curve."""
        return suggestions(self.lrs, self.losses)


@dataclass
class LRFindResult:
    """What the range test found: the suggested rate (valley), the other suggestions, the curve, the plot."""

    suggestion: float
    suggestions: dict[str, float]
    lrs: list[float] = field(repr=False)
    losses: list[float] = field(repr=False)
    plot: Path | None = None
    lang: str = "en"

    def __str__(self) -> str:
        from fitdoctor.i18n import t

        return t(
            "lr_find.answer",
            self.lang,
            lr=f"{self.suggestion:.1e}",
            steep=f"{self.suggestions['steep']:.1e}",
            minimum=f"{self.suggestions['minimum']:.1e}",
            plot=str(self.plot) if self.plot else "-",
        )

    def _repr_html_(self) -> str:
        import base64
        import html

        png = self.plot.read_bytes() if self.plot and self.plot.exists() else b""
        img = f'<img src="data:image/png;base64,{base64.b64encode(png).decode()}">' if png else ""
        return f'<div class="fitdoctor"><p><b>{html.escape(str(self))}</b></p>{img}</div>'


def plot_range_test(lrs, losses, found: dict[str, float], labels: dict) -> bytes:
    """The smoothed loss against the learning rate (log scale), the suggestions marked."""
    from fitdoctor.report.plots import MARK_COLOR, TRAIN_COLOR, _figure, _png

    fig, ax = _figure(6.4, 3.4)
    ax.semilogx(lrs, losses, color=TRAIN_COLOR, lw=1.8)
    finite = [x for x in losses if math.isfinite(x)]
    if finite:
        ax.set_ylim(min(finite) * 0.95, min(max(finite), STOP_FACTOR * min(finite)) * 1.05)
    styles = {"valley": ("-", "#3a8f3a"), "steep": (":", MARK_COLOR), "minimum": ("--", "#6a4fb3")}
    for name, lr in found.items():
        style, color = styles[name]
        ax.axvline(lr, ls=style, color=color, lw=1.3, label=f"{labels[name]} {lr:.1e}")
    ax.set_xlabel(labels["lr"])
    ax.set_ylabel(labels["loss"])
    ax.legend(frameon=False, fontsize=8)
    return _png(fig)


@validate_params(RULES["lr_find"], where="lr_find")
def lr_find(
    spec,
    data: str | os.PathLike,
    run_dir: str | os.PathLike | None = None,
    *,
    start_lr: float = 1e-7,
    end_lr: float = 10.0,
    steps: int = 100,
    seed: int | None = None,
    lang: str | None = None,
) -> LRFindResult:
    """Run the range test on a spec and a split folder; write `lr-find.png` and `lr-find.json` in `run_dir`.

    Args:
        spec: YAML path, YAML text, dict or `Spec` (its optimizer needs a constant learning rate).
        data: A split folder (train/ is used).
        run_dir: Where the plot and the numbers go (created); None writes nothing.
        start_lr, end_lr, steps: The range and the batches it spans (defaults 1e-7, 10, 100).
        seed: Seed for the weights and the data order.
        lang: "en" or "pt" for the answer and the plot.
    """
    from fitdoctor.errors import param_error
    from fitdoctor.fsio import atomic_open, write_json
    from fitdoctor.i18n import resolve_lang, t
    from fitdoctor.model.spec import load_spec
    from fitdoctor.rundir import LR_FIND, LR_FIND_PLOT, RunDir

    if not (0 < start_lr < end_lr):
        raise param_error("start_lr", "lr_find", _("a rate above 0 and below end_lr"), start_lr)
    language = resolve_lang(lang)
    spec = load_spec(spec)
    run = RunDir(run_dir) if run_dir is not None else None
    if run is not None and (run / LR_FIND).exists():
        raise UserError(
            _("'{run_dir}' already holds a range test (lr-find.json). Pass a new --run folder.", run_dir=run_dir)
        )
    from fitdoctor.data.loader import load_for_spec
    from fitdoctor.model.build import build_model

    if seed is not None:
        keras.utils.set_random_seed(int(seed))
    d = spec.raw["data"]
    split = load_for_spec(data, spec)
    built = build_model(spec, split.num_classes, (*split.image_size, split.channels))
    batch = int(d["batch_size"])
    train = split.dataset(
        "train", batch_size=batch, shuffle=True, seed=seed, one_hot=built.one_hot, augment=built.augmentation
    ).repeat()
    finder = LRFinder(start_lr, end_lr, steps)
    built.model.fit(train, steps_per_epoch=int(steps), epochs=1, verbose=0, shuffle=False, callbacks=[finder])
    found = finder.suggestions()
    plot = None
    if run is not None:
        run.path.mkdir(parents=True, exist_ok=True)
        labels = {k: t(f"lr_find.{k}", language) for k in ("valley", "steep", "minimum", "lr", "loss")}
        plot = run / LR_FIND_PLOT
        with atomic_open(plot, "wb") as f:
            f.write(plot_range_test(finder.lrs, finder.losses, found, labels))
        write_json(run / LR_FIND, {"suggestions": found, "lrs": finder.lrs, "losses": finder.losses})
    return LRFindResult(found["valley"], found, finder.lrs, finder.losses, plot, language)
