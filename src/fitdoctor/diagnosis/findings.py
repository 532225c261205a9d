"""The values a diagnosis is made of: findings with evidence, confidence and remedies.

Rendering (terminal, JSON, HTML, Portuguese) happens elsewhere, from these objects.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

VERDICTS = ("diverged", "insufficient_data", "unstable", "overfitting", "underfitting", "still_improving", "good_fit")
PRIORITY = {kind: i for i, kind in enumerate(VERDICTS)}
# What a verdict says about the training, coarsely: metadata (class count, loss name) may change a
# finding's form but never its family. Still improving is underfitting's mild case: train longer.
FAMILY = {
    "diverged": "broken",
    "unstable": "broken",
    "overfitting": "overfitting",
    "underfitting": "underfitting",
    "still_improving": "underfitting",
    "good_fit": "fine",
    "insufficient_data": "insufficient_data",
}


@dataclass
class Remedy:
    """One prescription: its id, why it fits this case, and the Keras code to apply it."""

    id: str
    why: str
    keras: str


@dataclass
class Finding:
    """A named problem (or a clean bill of health) with the numbers that show it.

    Args:
        kind: One of `VERDICTS`.
        confidence: 0..1.
        onset_epoch: 1-based epoch where it starts, or None.
        evidence: Named numbers (gap, rise since the best epoch, slopes, ...).
        form: A sub-kind (e.g. "overconfidence", "stuck_at_chance"), or "".
        summary: One sentence in the requested language (filled by the engine).
        remedies: Ranked prescriptions.

    Example:
        >>> Finding("overfitting", 0.9, 12, {"val_loss_rise": 0.18}).kind
        'overfitting'
    """

    kind: str
    confidence: float
    onset_epoch: int | None
    evidence: dict = field(default_factory=dict)
    form: str = ""
    summary: str = ""
    remedies: list[Remedy] = field(default_factory=list)

    def to_dict(self) -> dict:
        """Everything, the rendered summary and remedies included (`diagnose --json`)."""
        out = asdict(self)
        out["confidence"] = round(float(self.confidence), 3)
        out["evidence"] = {k: _clean(v) for k, v in self.evidence.items()}
        return out

    def to_record(self) -> dict:
        """Keys and numbers only, for stored records: `from_record` plus `summarise` render it in any language.

        Example:
            >>> rec = Finding("overfitting", 0.9, 12, {"val_rise": 0.18}, summary="...").to_record()
            >>> sorted(rec), Finding.from_record(rec).onset_epoch
            (['confidence', 'evidence', 'form', 'kind', 'onset_epoch', 'remedies'], 12)
        """
        out = self.to_dict()
        out.pop("summary")
        out["remedies"] = [r.id for r in self.remedies]
        return out

    @classmethod
    def from_record(cls, record: dict) -> Finding:
        """A finding back from `to_record()` (without its rendered text)."""
        return cls(
            record["kind"],
            record.get("confidence", 1.0),
            record.get("onset_epoch"),
            dict(record.get("evidence") or {}),
            record.get("form", ""),
        )


def _clean(value):
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return None
        return round(value, 6)
    return value
