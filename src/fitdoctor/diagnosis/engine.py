"""`diagnose(history)`: every rule on one history, the findings ranked, the verdict named.

Example:
    >>> d = diagnose({"loss": [1.0, 0.6, 0.4, 0.3, 0.2, 0.15, 0.1, 0.08],
    ...               "val_loss": [1.0, 0.7, 0.55, 0.5, 0.56, 0.62, 0.7, 0.78]})
    >>> d.verdict, d.primary.onset_epoch
    ('overfitting', 5)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from fitdoctor.diagnosis import rules
from fitdoctor.diagnosis.findings import PRIORITY, Finding
from fitdoctor.diagnosis.history import History, load_history
from fitdoctor.diagnosis.prescriptions import prescribe
from fitdoctor.diagnosis.summaries import after_past, notes_for, summarise
from fitdoctor.i18n import resolve_lang
from fitdoctor.validation import RULES, validate_params


@dataclass
class Diagnosis:
    """The verdict on one history, its findings (most important first) and notes."""

    source: str
    verdict: str
    findings: list[Finding]
    best_epoch: int | None
    epochs: int
    notes: list[str] = field(default_factory=list)
    lang: str = "en"
    history: History | None = None

    @property
    def primary(self) -> Finding:
        return self.findings[0]

    def _repr_html_(self) -> str:
        """The notebook card: verdict, curves, evidence and remedies (the report's renderer)."""
        from fitdoctor.report.html import diagnosis_card

        return diagnosis_card(self)

    def to_dict(self) -> dict:
        """Everything, rendered text included (`diagnose --json`)."""
        return {
            "source": self.source,
            "verdict": self.verdict,
            "findings": [f.to_dict() for f in self.findings],
            "best_epoch": self.best_epoch,
            "epochs": self.epochs,
            "notes": self.notes,
        }

    def to_record(self) -> dict:
        """Keys and numbers only (`diagnosis.json`, the rounds of `treatment.json`): no rendered text."""
        return {
            "verdict": self.verdict,
            "findings": [f.to_record() for f in self.findings],
            "best_epoch": self.best_epoch,
            "epochs": self.epochs,
        }


def find(h: History) -> list[Finding]:
    """Run the rules on a history; findings ranked (no text yet).

    What holds at the end of training comes first, by priority; a problem that came and went
    (`evidence["ended"]`) comes after. Overfitting is the full rule, or, when that does not fire
    yet, the early warning on the last epochs: the live callback runs this same function after
    each epoch, so live and offline tell one story.
    """
    train, val, _ = rules.monitor(h)
    finite = [c[np.isfinite(c)] for c in (train, val) if c is not None]
    problem = rules.diverged(h)
    if problem is not None:
        return [problem]
    if not finite or max(len(c) for c in finite) < rules.MIN_EPOCHS:
        return [Finding("insufficient_data", 1.0, None, {"epochs": h.epochs})]
    overfitting = rules.overfitting(h) or rules.early_overfitting(h)
    findings = [
        f for f in (overfitting, rules.unstable(h), rules.underfitting(h), rules.still_improving(h)) if f is not None
    ]
    if all(f.evidence.get("ended") for f in findings):
        findings.append(rules.good_fit(h))
    noisy = rules.noisy_validation(h)
    if noisy:
        for f in findings:
            if f.kind == "overfitting":
                f.confidence *= 0.8
                f.evidence.update(noisy)
    findings.sort(key=lambda f: (bool(f.evidence.get("ended")), PRIORITY[f.kind], -f.confidence))
    return findings


def summary_text(findings: list[dict], lang: str) -> str:
    """The summary of a stored diagnosis (its findings' `to_record()`, most important first) in `lang`.

    Renders from keys and numbers, with no new diagnosis: the same sentence `diagnose` gives
    the primary finding, preceded by a problem that came and went, if any.

    Example:
        >>> summary_text([{"kind": "insufficient_data", "evidence": {"epochs": 2}}], "pt")
        'Só 2 época(s): não é suficiente para julgar. Treine por pelo menos 3 épocas.'
    """
    language = resolve_lang(lang)
    return _primary_summary([Finding.from_record(r) for r in findings], language)


def _primary_summary(findings: list[Finding], lang: str) -> str:
    primary = findings[0]
    text = summarise(primary, lang)
    past = [f for f in findings[1:] if f.evidence.get("ended")]
    if past and not primary.evidence.get("ended"):
        text = after_past(text, past[0], lang)
    return text


def _best_epoch(h: History) -> int | None:
    train, val, _ = rules.monitor(h)
    curve = val if val is not None else train
    if curve is None or not np.isfinite(curve).any():
        return None
    return int(np.nanargmin(np.where(np.isfinite(curve), curve, np.nan))) + 1


@validate_params(RULES["diagnose"], where="diagnose")
def diagnose(
    history, *, lang: str | None = None, num_classes: int | None = None, spec: dict | None = None
) -> Diagnosis:
    """Diagnose a training history.

    Args:
        history: A Keras `History`, a History dict, a path (JSON, CSV, run dir) or a `History`.
        lang: "en" or "pt" (default: from the locale).
        num_classes: Number of classes, for the chance-level loss (read from a run dir if there).
        spec: The training spec, to rank remedies (read from a run dir if there).

    Returns:
        A `Diagnosis`; `.verdict` is the most important finding's kind.
    """
    h = load_history(history)
    if num_classes:
        h.num_classes = num_classes
    if spec is not None:
        h.spec = spec
    language = resolve_lang(lang)
    findings = find(h)
    for f in findings:
        f.summary = summarise(f, language)
        f.remedies = prescribe(f, h.spec, language)
    findings[0].summary = _primary_summary(findings, language)
    return Diagnosis(
        source=h.source,
        verdict=findings[0].kind,
        findings=findings,
        best_epoch=_best_epoch(h),
        epochs=h.epochs,
        notes=notes_for(h, findings, language),
        lang=language,
        history=h,
    )
