"""The readable summary of a treatment, in English or Brazilian Portuguese."""

from __future__ import annotations

from fitdoctor.i18n import t
from fitdoctor.treatment.change import render


def stop_reason_text(record: dict, lang: str = "en") -> str:
    """Why the loop stopped, said in `lang` (the record stores the key)."""
    finished = [r for r in record["rounds"] if r.get("finished")]
    verdict = t(f"verdict.{finished[-1]['verdict']}", lang) if finished else ""
    return t(f"fix.stop.{record['stop_reason']}", lang, verdict=verdict)


def summary_text(record: dict, lang: str = "en") -> str:
    """What happened in each round, which model was kept, and the test accuracy before and after."""
    lines = [t("fix.title", lang)]
    for r in record["rounds"]:
        if not r.get("finished"):
            continue
        verdict = t(f"verdict.{r['verdict']}", lang)
        head = t(
            "fix.round",
            lang,
            round=r["round"],
            verdict=verdict,
            epochs=r["epochs"],
            val_acc=f"{r['val']['accuracy']:.4f}",
        )
        lines.append(head)
        if r.get("undo"):
            lines.append(f"    <- {render(r['undo']['because'], lang)}")
        for rem in r.get("remedies", []):
            lines.append(f"    + {render(rem['change'], lang)}")
        if r.get("summary"):
            lines.append(f"    {r['summary']}")
    if record.get("after"):
        before = record["before"]["test"]["accuracy"]
        after = record["after"]["test"]["accuracy"]
        lines.append(t("fix.chosen", lang, round=record["chosen_round"]))
        lines.append(
            t(
                "fix.before_after",
                lang,
                before=f"{before:.4f}",
                after=f"{after:.4f}",
                delta=f"{(after - before) * 100:+.1f}",
            )
        )
    if record.get("stop_reason"):
        lines.append(t("fix.stopped", lang, reason=stop_reason_text(record, lang)))
    return "\n".join(lines)
