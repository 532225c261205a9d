"""The registry of remedies: id -> module, and the choice of remedies for a diagnosis."""

from __future__ import annotations

import copy
import importlib
from dataclasses import dataclass

from fitdoctor.diagnosis.prescriptions import rank
from fitdoctor.model.reading import context
from fitdoctor.treatment.change import Change
from fitdoctor.treatment.remedies.pretrained_base import Unavailable

MODULES = (
    "augmentation",
    "dropout",
    "l2",
    "early_stopping",
    "lower_lr",
    "shrink",
    "widen",
    "more_epochs",
    "less_regularisation",
    "higher_lr",
    "better_init",
    "batchnorm",
    "clipnorm",
    "larger_batch",
    "pretrained_base",
)
REMEDIES = {m.ID: m for m in (importlib.import_module(f"fitdoctor.treatment.remedies.{name}") for name in MODULES)}
# Remedies applied per round. Overfitting gets three: the notes' classic cure is a combination
# (augmentation + Dropout + early stopping), and one at a time costs a full retrain each
# (benchmarks/treatment_bench.py: with two per round the overfitting MLP missed +2 points on 2 of 3 seeds).
PER_ROUND = {
    "overfitting": 3,
    "underfitting": 2,
    "unstable": 2,
    "diverged": 2,
    "still_improving": 1,
    "insufficient_data": 1,
}


@dataclass
class Applied:
    """A remedy applied in a round: which one, because of what, and what it changed."""

    id: str
    because: Change
    change: Change

    def to_dict(self) -> dict:
        """What `treatment.json` stores: the remedy's id and two messages (keys and values, no text)."""
        return {"id": self.id, "because": self.because.to_dict(), "change": self.change.to_dict()}


def choose(
    raw: dict,
    finding,
    *,
    max_remedies: int | None = None,
    exclude=(),
    because: Change | None = None,
    epochs_left: int | None = None,
    too_long: list | None = None,
    facts: dict | None = None,
    skipped: list | None = None,
) -> tuple[dict, list[Applied]]:
    """Apply the best-ranked remedies that still change something; return (new spec, applied).

    The ranking is the diagnosis's own (`fitdoctor.diagnosis.prescriptions.rank`), so the
    terminal, the report and the loop always agree on what fits the case.

    Args:
        raw: The spec to start from (not changed).
        finding: The finding to treat.
        max_remedies: At most this many (default: `PER_ROUND` for the finding's kind).
        exclude: Remedy ids not to apply (blamed for an earlier round that made things worse).
        because: Why, when not the finding itself (a round undone).
        epochs_left: The epoch budget left: a remedy that would train longer than that (more epochs
            that the budget would cut short) is not applied; its id goes to `too_long`.
        too_long: A list that receives the ids of the remedies left out for the budget.
        facts: What the run knows of the data (`train_per_class`), for remedies that need it.
        skipped: A list that receives `{"id", "reason"}` for each remedy that fits the case but could
            not be applied here (pretrained weights that cannot be loaded).
    """
    new = copy.deepcopy(raw)
    limit = max_remedies or PER_ROUND.get(finding.kind, 1)
    applied: list[Applied] = []
    because = because or _because(finding)
    for rid in rank(finding, context(raw)):
        module = REMEDIES.get(rid)
        if module is None or finding.kind not in module.KINDS or rid in exclude:
            continue
        trial = copy.deepcopy(new)
        try:
            change = (
                module.apply(trial, finding, facts)
                if getattr(module, "USES_FACTS", False)
                else module.apply(trial, finding)
            )
        except Unavailable as exc:  # fits the case, cannot be applied here: say why, use the others
            if skipped is not None:
                skipped.append({"id": rid, "reason": exc.reason.to_dict()})
            continue
        if not change:
            continue
        if epochs_left is not None and total_epochs(trial) > max(epochs_left, total_epochs(new)):
            if too_long is not None:
                too_long.append(rid)
            continue
        new = trial
        applied.append(Applied(rid, because, change))
        if len(applied) >= limit:
            break
    return new, applied


def total_epochs(raw: dict) -> int:
    """The epochs a spec trains: `fit.epochs`, plus the fine-tuning phase's."""
    tune = raw["fit"].get("fine_tune") or {}
    return int(raw["fit"]["epochs"]) + int(tune.get("epochs", 0))


def _because(finding) -> Change:
    """Why a round's remedies were chosen, as a translatable message."""
    ev = finding.evidence
    if finding.kind == "overfitting":
        return Change(
            "because.overfitting",
            onset=finding.onset_epoch,
            monitor=ev["monitor"].replace("_", " "),
            rise=f"{ev['val_rise'] * 100:.0f}",
            train=f"{ev['train_change_since_best'] * 100:+.0f}",
        )
    if finding.kind == "underfitting":
        return Change("because.underfitting", form=Change(f"form.{finding.form}"), loss=f"{ev['train_end']:.3g}")
    if finding.kind == "still_improving":
        return Change("because.still_improving", drop=f"{ev['recent_drop'] * 100:.0f}", window=ev["window"])
    if finding.kind == "unstable":
        return Change(
            "because.unstable", spikes=ev["spikes"], val_spikes=ev.get("val_spikes", 0), osc=f"{ev['oscillation']:.1f}"
        )
    if finding.kind == "diverged":
        return Change("because.diverged", form=Change(f"form.{finding.form}"), epoch=finding.onset_epoch)
    return Change("because.other", kind=finding.kind)
