"""The rules that turn curves into findings. One set of settings for every history.

Each rule reads a `History` and returns a `Finding` or None. Thresholds are named
constants, chosen to be explainable: overfitting needs validation loss at least 3% above
its best *and* at least 5% of the validation improvement given back, held at the end of
training, beyond the curve's own noise, while training loss kept falling.

Every rule works on a bare History dict. The class count and the loss name (the chance
level, log(classes)) only sharpen a finding's form and remedies; they never decide whether
a finding exists. "Diverged" is a rise after training had gone down (or NaN/inf), never a
first epoch that is simply the highest. A problem that came and went (spikes early on)
is a finding about the past (`evidence["ended"]`), ranked after what holds at the end.
"""

from __future__ import annotations

import math

import numpy as np

from fitdoctor.diagnosis import signals
from fitdoctor.diagnosis.findings import Finding
from fitdoctor.diagnosis.history import History

MIN_EPOCHS = 3
OVERFIT_RISE = 0.03  # val loss above its best, relative
OVERFIT_GIVEBACK = 0.05  # share of the validation improvement given back
OVERFIT_NOISE_FACTOR = 3.0
MIN_EPOCHS_AFTER_BEST = 2
MEMORISED_ACCURACY = 0.99  # training accuracy of a model that memorised its training set
MEMORISED_RISE = 0.05
BLOWUP_OF_CHANCE = 1.2  # a first epoch this far above chance, then flat at chance: the LR broke the net
ABOVE_CHANCE = 1.03  # flat and worse than guessing uniformly: the network is broken, not just weak
DEAD_FLAT = 0.001  # a loss that moves less than 0.1% over the last window: the network no longer learns
EARLY_RISE = 0.05  # live early warning: validation loss 5% above its best ...
EARLY_HELD = 2  # ... for the last 2 epochs, with no new best and training loss still falling
STALL_EPOCHS = 3  # live early warning, quiet form: no new validation best for 3 epochs ...
STALL_TRAIN_DROP = 0.10  # ... while training loss fell 10% more, and validation did not improve on the last epoch
EARLY_WINDOW = 6  # the warning speaks of a start: at most 6 epochs after the best one (then the full rule decides)
SPIKE_JUMP = 0.25
UNSTABLE_SPIKES = 2
UNSTABLE_OSCILLATION = 4.0
UNSTABLE_AMPLITUDE = 0.10  # median swing, of the loss level: augmentation and Dropout alone move it ~5%
ZIGZAG_FLOOR = 0.01  # and each zigzag step 1% of all the loss travelled (bumps of 1e-3 after 2.4 are not)
EXPLODE_FACTOR = 3.0
EXPLODED_OF_REST = 100.0  # a first epoch 100x the median of the rest, after which the network learnt nothing
NO_PROGRESS = 0.02  # training accuracy gained less than 2 points after epoch 2
RISING_FACTOR = 1.15  # training loss ends 15% above its best and above its start: training is making it worse
BLOWUP_SPIKE = 3.0  # one jump to 3x the best so far counts as two ordinary spikes
RECENT_SPIKES = 0.25  # spikes in the last quarter of training (at least 5 epochs) are a problem now
VAL_SPIKES = 3
SPIKE_NOISE_FACTOR = 3.0  # a validation jump must also stand 3 robust sd above the curve's epoch-to-epoch noise
SPIKE_FLOOR = 0.05  # a spike must also move the loss by 5% of its starting value
PLATEAU_DROP = 0.05  # less than 5% decrease over the last window = plateau
IMPROVING_DROP = 0.02
CHANCE_STUCK = 0.9
LOW_TRAIN_ACCURACY = 0.8
NOISY_VALIDATION = 0.05


def residual_noise(values: np.ndarray) -> float:
    """Median distance of each point from the median of it and its neighbours (0 for smooth curves)."""
    if len(values) < 3:
        return 0.0
    window = np.stack([values[:-2], values[1:-1], values[2:]])
    return float(np.median(np.abs(values[1:-1] - np.median(window, axis=0))))


def val_resolution(h: History) -> dict | None:
    """The smallest change of validation accuracy the validation set can resolve, and its size.

    The size comes from the run directory when known, else from the steps of the validation
    accuracy curve (`signals.count_from_steps`). None without a validation accuracy.

    Example:
        >>> from fitdoctor.diagnosis.history import from_dict
        >>> val_resolution(from_dict({"val_accuracy": [0.81, 0.826, 0.842, 0.836, 0.85]}))["val_samples"]
        500
    """
    vacc = h.get("val_accuracy")
    if vacc is None or not np.isfinite(vacc).any():
        return None
    n, inferred = h.val_samples, False
    if not n:
        n, inferred = signals.count_from_steps(vacc), True
    if not n:
        return None
    end = signals.end_value(vacc[np.isfinite(vacc)])
    return {"val_samples": int(n), "val_samples_inferred": inferred, "val_resolution": signals.resolution(end, n)}


def monitor(h: History) -> tuple[np.ndarray | None, np.ndarray | None, str]:
    """(train, validation, name) curves to judge: losses, else errors (1 - accuracy)."""
    loss, val = h.get("loss"), h.get("val_loss")
    if loss is not None or val is not None:
        return loss, val, "loss"
    acc, vacc = h.get("accuracy"), h.get("val_accuracy")
    return (None if acc is None else 1 - acc), (None if vacc is None else 1 - vacc), "error"


def chance_loss(h: History) -> float | None:
    """log(classes): the cross-entropy of a model that guesses uniformly, when classes are known."""
    name = (h.loss_name or "crossentropy").lower()
    if h.num_classes and h.num_classes > 1 and "crossentropy" in name.replace("_", ""):
        return math.log(h.num_classes)
    return None


def diverged(h: History) -> Finding | None:
    for name in ("loss", "val_loss"):
        values = h.get(name)
        if values is None:
            continue
        bad = signals.first_nonfinite(values)
        if bad is not None:
            finite = values[:bad][np.isfinite(values[:bad])]
            return Finding(
                "diverged",
                1.0,
                bad + 1,
                {
                    "series": name,
                    "first_nonfinite_epoch": bad + 1,
                    "last_finite": float(finite[-1]) if finite.size else None,
                },
                form="nan",
            )
    loss = h.get("loss")
    exploded = _exploded_in_first_epoch(h)
    if exploded is not None:
        return exploded
    if loss is not None and len(loss) >= MIN_EPOCHS:
        best = int(np.argmin(loss))
        end = signals.end_value(loss)
        if end > EXPLODE_FACTOR * loss[best] and end > 1.5 * loss[0]:
            return Finding(
                "diverged",
                0.85,
                best + 2,
                {
                    "loss_best": float(loss[best]),
                    "loss_end": end,
                    "growth_factor": float(end / max(loss[best], 1e-12)),
                    "best_epoch": best + 1,
                },
                form="exploding",
            )
        if np.isfinite(loss).all() and end > RISING_FACTOR * loss[best] and end > loss[0]:
            evidence = {
                "loss_best": float(loss[best]),
                "best_epoch": best + 1,
                "loss_start": float(loss[0]),
                "loss_end": end,
                "growth_factor": end / max(float(loss[best]), 1e-12),
            }
            return Finding("diverged", 0.75, best + 2, evidence, form="rising")
    return None


def _exploded_in_first_epoch(h: History) -> Finding | None:
    """The loss blew up inside epoch 1 (its mean is 100x the rest) and the network learnt nothing after.

    A first epoch that is simply the highest is normal (a memorising network falls four orders of
    magnitude): what marks the blow-up is that nothing was learnt afterwards, training accuracy
    flat and low (or, without accuracy, the loss no lower at the end than at epoch 2).
    """
    loss = h.get("loss")
    if loss is None or len(loss) < MIN_EPOCHS or not np.isfinite(loss).all():
        return None
    rest = float(np.median(loss[1:]))
    if not loss[0] > EXPLODED_OF_REST * max(rest, 1e-12):
        return None
    acc = h.get("accuracy")
    end = signals.end_value(loss)
    if acc is not None and np.isfinite(acc).all():
        acc_end = signals.end_value(acc)
        learnt = acc_end >= LOW_TRAIN_ACCURACY or acc_end - float(acc[1]) >= NO_PROGRESS
    else:
        learnt = end < 0.5 * float(loss[1])
    if learnt:
        return None
    evidence = {"loss_first": float(loss[0]), "loss_median_after": rest, "loss_end": end}
    return Finding("diverged", 0.85, 1, evidence, form="exploded")


def overfitting(h: History) -> Finding | None:
    train, val, kind = monitor(h)
    if val is None or train is None or len(val) < MIN_EPOCHS:
        return None
    n = len(val)
    best = int(np.argmin(val))
    after = n - 1 - best
    if after < MIN_EPOCHS_AFTER_BEST:
        return None
    vmin, vend = float(val[best]), signals.end_value(val)
    ref = float(np.max(val[: best + 1]))
    rise = vend / vmin - 1 if vmin > 0 else math.inf
    giveback = (vend - vmin) / (ref - vmin) if ref > vmin else math.inf
    tbest, tend = float(train[best]), signals.end_value(train)
    noise = residual_noise(val)
    acc = h.get("accuracy")
    acc_end = signals.end_value(acc) if kind == "loss" and acc is not None and np.isfinite(acc).all() else None
    memorised = acc_end is not None and acc_end >= MEMORISED_ACCURACY
    material = (rise >= OVERFIT_RISE and giveback >= OVERFIT_GIVEBACK) or (memorised and rise >= MEMORISED_RISE)
    if not (material and tend < tbest and vend - vmin > OVERFIT_NOISE_FACTOR * noise):
        return None
    confidence = 0.5 + 0.25 * min(1.0, rise / 0.1) + 0.25 * min(1.0, giveback / 0.25)
    if after < 3:
        confidence *= 0.85
    evidence = {
        "monitor": f"val_{kind}",
        "best_epoch": best + 1,
        "epochs_since_best": after,
        "val_best": vmin,
        "val_end": vend,
        "val_rise": rise,
        "improvement_given_back": min(giveback, 10.0),
        "train_at_best": tbest,
        "train_end": tend,
        "train_change_since_best": tend / tbest - 1 if tbest else 0.0,
        "gap_at_best": vmin - tbest,
        "gap_end": vend - tend,
    }
    if acc_end is not None:
        evidence["train_accuracy_end"] = acc_end
    form = "classic"
    vacc = h.get("val_accuracy")
    if kind == "loss" and vacc is not None and len(vacc) == n and np.isfinite(vacc).all():
        acc_best, acc_end = float(vacc[best]), signals.end_value(vacc)
        evidence.update(
            {"val_accuracy_at_best": acc_best, "val_accuracy_end": acc_end, "val_accuracy_max": float(np.max(vacc))}
        )
        resolved = val_resolution(h)
        if acc_end >= acc_best - max(0.005, resolved["val_resolution"] if resolved else 0.0):
            form = "overconfidence"
    return Finding("overfitting", min(confidence, 0.99), best + 2, evidence, form=form)


def early_overfitting(h: History) -> Finding | None:
    """The live early warning: validation stops improving while training loss keeps falling.

    Part of every diagnosis (the FitDoctor callback runs the same diagnosis after each epoch), so
    live and offline agree; it speaks only of the first `EARLY_WINDOW` epochs after the best one,
    after which the full `overfitting` rule decides. Two forms:
    - `early`: validation loss 5% above its best on each of the last two epochs;
    - `stalled`: no new validation best for 3 epochs, training loss down 10% more since that
      best, and the last epoch no better than the one before (the gap is opening now).

    Example:
        >>> from fitdoctor.diagnosis.history import from_dict
        >>> h = from_dict({"loss": [1.0, 0.6, 0.4, 0.3, 0.25, 0.2], "val_loss": [1.0, 0.7, 0.5, 0.51, 0.52, 0.54]})
        >>> early_overfitting(h).form
        'stalled'
    """
    train, val, kind = monitor(h)
    if val is None or train is None or len(val) < MIN_EPOCHS or not np.isfinite(val).all():
        return None
    best = int(np.argmin(val))
    since = len(val) - 1 - best
    vmin = float(val[best])
    if not EARLY_HELD <= since <= EARLY_WINDOW or vmin <= 0 or not np.isfinite(train[[best, -1]]).all():
        return None
    train_change = float(train[-1] / train[best] - 1) if train[best] else 0.0
    if val[-EARLY_HELD:].min() >= (1 + EARLY_RISE) * vmin and train[-1] < train[best]:
        form = "early"
    elif since >= STALL_EPOCHS and train_change <= -STALL_TRAIN_DROP and val[-1] >= val[-2]:
        form = "stalled"
    else:
        return None
    evidence = {
        "monitor": f"val_{kind}",
        "best_epoch": best + 1,
        "epochs_since_best": since,
        "val_best": vmin,
        "val_end": float(val[-1]),
        "val_rise": float(val[-1] / vmin - 1),
        "train_change_since_best": train_change,
    }
    return Finding("overfitting", 0.6 if form == "early" else 0.5, best + 2, evidence, form=form)


def _val_jumps(h: History, val: np.ndarray | None) -> list[int]:
    """Epochs (0-based) where a validation curve jumps the wrong way beyond its noise.

    A low validation loss on a few hundred images is carried by the handful of images the model
    gets wrong, so it moves by 25% from one epoch to the next as noise. Two kinds of jump count:
    - validation accuracy falls by more than the validation set can resolve (`val_resolution`,
      two standard errors of a difference), when its size is known or readable from the curve;
    - validation loss rises 25% above the epoch before, by 5% of its starting value, with a
      log-ratio `SPIKE_NOISE_FACTOR` robust standard deviations (1.4826 x the median absolute
      deviation of all epoch-to-epoch log-ratios) above the curve's usual movement.
    """
    out: set[int] = set()
    if val is not None and len(val) > 2 and np.isfinite(val).all():
        ratios = np.diff(np.log(np.maximum(val, 1e-12)))
        spread = 1.4826 * float(np.median(np.abs(ratios - np.median(ratios))))
        jump = (val[1:] > (1 + SPIKE_JUMP) * val[:-1]) & (np.diff(val) > SPIKE_FLOOR * abs(float(val[0])))
        out.update(int(i) + 1 for i in np.flatnonzero(jump & (ratios > SPIKE_NOISE_FACTOR * spread)))
    vacc, resolved = h.get("val_accuracy"), val_resolution(h)
    if vacc is not None and resolved and np.isfinite(vacc).all():
        falls = (vacc[:-1] - vacc[1:]) > resolved["val_resolution"]
        out.update(int(i) + 1 for i in np.flatnonzero(falls))
    return sorted(out)


def _epochs_text(epochs: list[int]) -> str:
    """1-based epochs as a short range: [7, 8, 11] -> "7-11"."""
    return str(epochs[0]) if epochs[0] == epochs[-1] else f"{epochs[0]}-{epochs[-1]}"


def unstable(h: History) -> Finding | None:
    """Spikes or zigzag in the training loss, or repeated jumps of the validation loss beyond its noise.

    Spikes that all lie before the last quarter of training (at least 5 epochs), with no zigzag
    in the second half, are a problem that came and went: the finding says so
    (`evidence["ended"]`) and ranks after what holds at the end.
    """
    loss = h.get("loss")
    if loss is None or len(loss) < 2 * MIN_EPOCHS:
        return None
    n = len(loss)
    floor = SPIKE_FLOOR * float(abs(loss[0]))
    jumps = [e for e in signals.spikes(loss, SPIKE_JUMP, floor) if e >= 2]
    best_before = np.minimum.accumulate(loss)
    blowups = [e for e in jumps if loss[e] > BLOWUP_SPIKE * best_before[e - 1]]
    val = h.get("val_loss")
    val_jumps = _val_jumps(h, val if val is not None and len(val) == n else None)
    osc = signals.oscillation(loss)
    half = loss[n // 2 :]
    step = float(np.median(np.abs(np.diff(half))))
    amplitude = step / max(float(np.median(np.abs(half))), 1e-12)
    travelled = float(np.nanmax(loss) - np.nanmin(loss))
    zigzag = osc >= UNSTABLE_OSCILLATION and amplitude >= UNSTABLE_AMPLITUDE and step >= ZIGZAG_FLOOR * travelled
    spike_count = len(jumps) + len(blowups)
    if spike_count < UNSTABLE_SPIKES and not zigzag and len(val_jumps) < VAL_SPIKES:
        return None
    confidence = min(0.95, 0.55 + 0.1 * max(len(jumps), len(val_jumps)) + (0.2 if zigzag else 0.0))
    form = "spikes" if spike_count >= UNSTABLE_SPIKES else ("zigzag" if zigzag else "val_spikes")
    marks = jumps if form == "spikes" else (val_jumps if form == "val_spikes" else [])
    recent = n - max(5, int(RECENT_SPIKES * n))
    ended = form != "zigzag" and not zigzag and bool(marks) and max(marks) < recent
    first = (jumps or val_jumps or [None])[0]
    evidence = {
        "spike_epochs": [e + 1 for e in jumps][:20],
        "spikes": len(jumps),
        "oscillation": osc,
        "amplitude": amplitude,
        "val_spike_epochs": [e + 1 for e in val_jumps][:20],
        "val_spikes": len(val_jumps),
        "ended": ended,
    }
    if ended:
        evidence["epochs"] = _epochs_text([e + 1 for e in marks])
        evidence["calm_epochs"] = n - 1 - max(marks)
    return Finding("unstable", confidence, None if first is None else first + 1, evidence, form=form)


def _window(n: int) -> int:
    return n if n < 6 else max(3, n // 5)


def recent_drop(values: np.ndarray) -> float:
    """Relative decrease the current trend promises over the next max(5, window) epochs (positive = falling)."""
    w = _window(len(values))
    return -signals.relative_slope(values, w) * max(5, w - 1)


def underfitting(h: History) -> Finding | None:
    """Bad on training (and on validation): training accuracy low, or the loss high, and no longer falling.

    Whether it fires depends on the curves alone: training accuracy under 80% when there is an
    accuracy series, else a training loss still above 60% of where it started. The chance level
    (known class count and cross-entropy loss) only names the form: `stuck_at_chance`, or
    `blown_up` when the first epoch sat far above chance (the learning rate broke the network).
    """
    train, val, kind = monitor(h)
    if train is None or len(train) < MIN_EPOCHS:
        return None
    tend, t0 = signals.end_value(train), float(train[0])
    chance = chance_loss(h) if kind == "loss" else None
    acc, vacc = h.get("accuracy"), h.get("val_accuracy")
    acc_end = signals.end_value(acc) if acc is not None and np.isfinite(acc).all() else None
    vacc_end = signals.end_value(vacc) if vacc is not None and np.isfinite(vacc).all() else None
    drop = recent_drop(train)
    evidence = {"train_end": tend, "train_start": t0, "recent_drop": drop}
    if chance:
        evidence.update({"chance_loss": chance, "of_chance": tend / chance, "classes": h.num_classes})
    if acc_end is not None:
        evidence["accuracy_end"] = acc_end
    if vacc_end is not None:
        evidence["val_accuracy_end"] = vacc_end
    dead = _dead_units(h)
    if dead is not None:
        evidence["dead_relu_fraction"] = dead
    if acc_end is not None:
        high = acc_end < LOW_TRAIN_ACCURACY
    else:
        high = kind == "loss" and tend > 0.6 * t0
    if not high or drop >= PLATEAU_DROP:
        return None
    if chance is not None and tend >= CHANCE_STUCK * chance:
        blown = t0 > BLOWUP_OF_CHANCE * chance or (tend >= ABOVE_CHANCE * chance and abs(drop) < DEAD_FLAT)
        evidence["loss_first"] = t0
        return Finding("underfitting", 0.95, None, evidence, form="blown_up" if blown else "stuck_at_chance")
    form = "high_loss"
    resolved = val_resolution(h)
    if (
        acc_end is not None
        and vacc_end is not None
        and vacc_end > acc_end + max(0.02, resolved["val_resolution"] if resolved else 0.0)
    ):
        form = "regularised"
    elif chance is None and acc_end is None:
        form = "loss_not_falling"
    return Finding("underfitting", 0.8, None, evidence, form=form)


def _dead_units(h: History) -> float | None:
    dead = h.stats.get("dead_relu") if h.stats else None
    if not dead:
        return None
    last = [v[-1] for v in dead.values() if v]
    return float(max(last)) if last else None


def still_improving(h: History) -> Finding | None:
    train, val, kind = monitor(h)
    curve = val if val is not None else train
    if curve is None or len(curve) < MIN_EPOCHS:
        return None
    n = len(curve)
    best = int(np.argmin(curve))
    drop = recent_drop(curve)
    if best < n - 1 - max(1, n // 20) or drop < IMPROVING_DROP:
        return None
    more = signals.epochs_to_plateau(curve)
    name = ("val_" if val is not None else "") + kind
    return Finding(
        "still_improving",
        min(0.95, 0.6 + 2 * drop),
        None,
        {
            "series": name,
            "recent_drop": drop,
            "window": _window(n),
            "best_epoch": best + 1,
            "epochs_more": more if more is not None else n,
        },
        form="",
    )


def good_fit(h: History) -> Finding:
    train, val, kind = monitor(h)
    curve = val if val is not None else train
    best = int(np.argmin(curve))
    evidence = {
        "best_epoch": best + 1,
        "series": ("val_" if val is not None else "") + kind,
        "best": float(curve[best]),
    }
    if val is not None and train is not None:
        evidence["gap_end"] = signals.end_value(val) - signals.end_value(train)
    vacc = h.get("val_accuracy")
    if vacc is not None and len(vacc) > best:
        evidence["val_accuracy_at_best"] = float(vacc[best])
    return Finding("good_fit", 0.8 if val is not None else 0.5, None, evidence)


def noisy_validation(h: History) -> dict | None:
    """Evidence that the validation curve is too noisy to judge, or None."""
    train, val, _ = monitor(h)
    if val is None or train is None or len(val) < 2 * MIN_EPOCHS:
        return None
    level = float(np.median(np.abs(val))) or 1.0
    vnoise, tnoise = residual_noise(val) / level, residual_noise(train) / (float(np.median(np.abs(train))) or 1.0)
    if vnoise > NOISY_VALIDATION and vnoise > 3 * tnoise:
        return {"val_noise": vnoise, "train_noise": tnoise}
    return None
