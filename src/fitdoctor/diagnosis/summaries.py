"""One plain sentence per finding, and the notes that go with a diagnosis, in en or pt_BR."""

from __future__ import annotations

from fitdoctor.diagnosis import rules
from fitdoctor.diagnosis.findings import Finding
from fitdoctor.diagnosis.history import History, near_validation_name
from fitdoctor.i18n import t


def _fall(start: float, end: float) -> str:
    """How far a value fell from `start` to `end`, in percent of `start`: 0 to 100, never more.

    Example:
        >>> _fall(2.0, 0.5), _fall(1.0, 1.2), _fall(1.0, -0.59)
        ('75', '0', '100')
    """
    if not start or start <= 0 or end >= start:
        return "0"
    return f"{min(1.0, (start - end) / start) * 100:.0f}"


def _pct(x: float) -> str:
    return f"{abs(x) * 100:.0f}"


def _num(x) -> str:
    return "?" if x is None else f"{x:.4g}"


def summarise(f: Finding, lang: str) -> str:
    """The finding's summary sentence in `lang`."""
    ev = f.evidence
    if f.kind == "overfitting":
        values = {
            "onset": f.onset_epoch,
            "best": ev["best_epoch"],
            "rise": _pct(ev["val_rise"]),
            "train_drop": _fall(ev["train_at_best"], ev["train_end"])
            if "train_at_best" in ev
            else _pct(ev["train_change_since_best"]),
            "monitor": t(f"series.{ev['monitor']}", lang),
            "val_acc": _num(ev.get("val_accuracy_end")),
            "since": ev.get("epochs_since_best"),
        }
        return t(f"summary.overfitting.{f.form}", lang, **values)
    if f.kind == "underfitting":
        values = {
            "loss_end": _num(ev["train_end"]),
            "chance": _num(ev.get("chance_loss")),
            "of_chance": _pct(ev.get("of_chance", 0)),
            "classes": ev.get("classes"),
            "acc": _num(ev.get("accuracy_end")),
            "val_acc": _num(ev.get("val_accuracy_end")),
            "drop": _fall(ev["train_start"], ev["train_end"]),
            "loss_first": _num(ev.get("loss_first")),
        }
        key = f.form
        if key == "high_loss" and ev.get("chance_loss") is None:
            key = "low_accuracy"
        return t(f"summary.underfitting.{key}", lang, **values)
    if f.kind == "still_improving":
        return t(
            "summary.still_improving",
            lang,
            series=t(f"series.{ev['series']}", lang),
            drop=_pct(min(1.0, ev["recent_drop"])),  # the trend's projection, shown as at most all of it
            window=ev["window"],
            more=ev["epochs_more"],
        )
    if f.kind == "unstable":
        if ev.get("ended"):
            n = ev["val_spikes"] if f.form == "val_spikes" else ev["spikes"]
            return t("summary.unstable.ended", lang, epochs=ev["epochs"], n=n, calm=ev["calm_epochs"])
        if f.form == "val_spikes":
            spikes = ", ".join(str(e) for e in ev["val_spike_epochs"][:6])
            return t("summary.unstable.val_spikes", lang, n=ev["val_spikes"], epochs=spikes)
        spikes = ", ".join(str(e) for e in ev["spike_epochs"][:6])
        return t(
            f"summary.unstable.{f.form}", lang, n=ev["spikes"], epochs=spikes, oscillation=f"{ev['oscillation']:.1f}"
        )
    if f.kind == "diverged":
        if f.form == "nan":
            return t("summary.diverged.nan", lang, series=t(f"series.{ev['series']}", lang), epoch=f.onset_epoch)
        if f.form == "rising":
            return t(
                "summary.diverged.rising",
                lang,
                loss_best=_num(ev["loss_best"]),
                best=ev["best_epoch"],
                loss_end=_num(ev["loss_end"]),
                loss_start=_num(ev["loss_start"]),
            )
        if f.form == "exploded":
            return t(
                "summary.diverged.exploded",
                lang,
                loss_first=_num(ev["loss_first"]),
                loss_after=_num(ev["loss_median_after"]),
                loss_end=_num(ev["loss_end"]),
            )
        return t(
            "summary.diverged.exploding",
            lang,
            loss_end=_num(ev["loss_end"]),
            factor=f"{ev['growth_factor']:.0f}",
            loss_best=_num(ev["loss_best"]),
        )
    if f.kind == "good_fit":
        gap = ev.get("gap_end")
        key = "summary.good_fit" if gap is not None else "summary.good_fit.no_val"
        return t(
            key,
            lang,
            best=ev["best_epoch"],
            value=_num(ev["best"]),
            gap=_num(gap),
            series=t(f"series.{ev['series']}", lang),
        )
    return t("summary.insufficient_data", lang, epochs=ev.get("epochs", 0))


def after_past(primary: str, past: Finding, lang: str) -> str:
    """The primary summary, preceded by a problem that came and went ("Unstable early on (epochs 7-11), then: ...")."""
    return t(
        "summary.after_past",
        lang,
        past=t(f"verdict.{past.kind}", lang).capitalize(),
        epochs=past.evidence["epochs"],
        summary=primary,
    )


def notes_for(h: History, findings: list[Finding], lang: str) -> list[str]:
    """Notes that qualify the verdict: no validation curve, a noisy one, loss vs accuracy."""
    notes = []
    _, val, kind = rules.monitor(h)
    if val is None:
        near = near_validation_name(h.series)
        notes.append(
            t("note.no_validation_near", lang, series=near[0], meant=near[1]) if near else t("note.no_validation", lang)
        )
    if kind == "error":
        notes.append(t("note.accuracy_only", lang))
    noisy = rules.noisy_validation(h)
    if noisy:
        notes.append(t("note.noisy_validation", lang, noise=_pct(noisy["val_noise"])))
    if any(f.kind == "overfitting" and f.form == "overconfidence" for f in findings):
        notes.append(t("note.loss_vs_accuracy", lang))
    if h.gaps:
        where = "; ".join(f"{name} {', '.join(map(str, epochs[:8]))}" for name, epochs in h.gaps.items())
        notes.append(t("note.gaps", lang, where=where))
    if h.trimmed_from:
        notes.append(t("note.trimmed", lang, longest=h.trimmed_from, shortest=h.epochs))
    resolved = rules.val_resolution(h)
    if resolved:
        key = "note.resolution_inferred" if resolved["val_samples_inferred"] else "note.resolution"
        notes.append(t(key, lang, points=f"{resolved['val_resolution'] * 100:.1f}", n=resolved["val_samples"]))
    return notes
