"""Summaries and the text report: one sentence per finding, rendered again from a stored record."""

import pytest

from fitdoctor.diagnosis.engine import diagnose, summary_text
from fitdoctor.diagnosis.render import render

HISTORIES = {
    "overfitting": {
        "loss": [1.0 - 0.045 * i for i in range(20)],
        "val_loss": [1.0 - 0.05 * i for i in range(8)] + [0.65 + 0.04 * i for i in range(12)],
    },
    "good_fit": {
        "loss": [1.0 / (1 + 0.5 * i) for i in range(20)],
        "val_loss": [1.05 / (1 + 0.5 * i) + 0.1 for i in range(8)] + [0.34] * 12,
    },
    "insufficient_data": {"loss": [1.0, 0.8]},
}


@pytest.mark.parametrize("verdict", sorted(HISTORIES))
@pytest.mark.parametrize("lang", ["en", "pt_BR"])
def test_a_stored_record_renders_the_same_sentence_without_a_new_diagnosis(verdict, lang):
    d = diagnose(HISTORIES[verdict], lang=lang)
    assert d.verdict == verdict
    record = d.to_record()
    assert "summary" not in str(record.keys()) and all("summary" not in f for f in record["findings"])
    assert summary_text(record["findings"], lang) == d.primary.summary


def test_the_text_report_has_verdict_curves_evidence_and_remedies():
    text = render(diagnose(HISTORIES["overfitting"], lang="en"))
    lines = text.splitlines()
    assert "OVERFITTING" in lines[0] and "confidence" in lines[0]
    assert any("B=best epoch" in line for line in lines)
    assert "Evidence:" in text and "val_rise: 0.6154" in text
    assert "1. Data augmentation" in text or "1. " in text.split("Evidence:")[1]
    pt = render(diagnose(HISTORIES["overfitting"], lang="pt"))
    assert "confiança" in pt and "Evidências:" in pt and "Como resolver:" in pt and "B=melhor época 8" in pt
