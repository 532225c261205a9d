"""The HTML renderer: the report of a run, and the cards a notebook shows.

`report(run_dir)` builds a `Report`: a notebook displays it inline, `.save(path)` writes one
self-contained page. Plots are embedded as PNG data URIs (and saved beside the HTML), styles
are inline and scoped to `.fitdoctor`, nothing is fetched from the network: the file opens
offline, anywhere. The notebook cards (`diagnosis_card`, `run_card`, `treatment_card`) are
made of the same sections, with small SVG charts instead of PNGs.
"""

from __future__ import annotations

import base64
import html
import os
from pathlib import Path

from fitdoctor.diagnosis.engine import diagnose, summary_text
from fitdoctor.errors import UserError
from fitdoctor.fsio import atomic_open, write_text
from fitdoctor.i18n import _, resolve_lang, t
from fitdoctor.report import plots
from fitdoctor.rundir import RunDir
from fitdoctor.treatment.change import render
from fitdoctor.validation import RULES, validate_params

BANNER = {
    "good_fit": "#2e7d32",
    "still_improving": "#b26a00",
    "overfitting": "#b8323a",
    "underfitting": "#6a4fb3",
    "unstable": "#a15c00",
    "diverged": "#7b1f24",
    "insufficient_data": "#555",
}
PAGE_CSS = "body{margin:0;background:#f6f7f9}main{max-width:980px;margin:0 auto;padding:24px}"
CSS = """
.fitdoctor{font-family:system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;color:#1d2330;
line-height:1.4}
.fitdoctor .banner{color:#fff;border-radius:14px;padding:22px 26px;margin-bottom:18px}
.fitdoctor .banner h1{margin:0 0 6px;font-size:30px;letter-spacing:.5px;text-transform:uppercase;color:#fff}
.fitdoctor .banner p{margin:0;font-size:16px;line-height:1.45;opacity:.95;color:#fff}
.fitdoctor .cards{display:flex;gap:12px;flex-wrap:wrap;margin-bottom:18px}
.fitdoctor .card{background:#fff;border-radius:12px;padding:12px 16px;flex:1;min-width:150px;box-shadow:0 1px 3px #0001}
.fitdoctor .card b{display:block;font-size:24px}.fitdoctor .card span{color:#5a6272;font-size:13px}
.fitdoctor section{background:#fff;border-radius:12px;padding:16px 20px;margin-bottom:18px;box-shadow:0 1px 3px #0001}
.fitdoctor h2{font-size:19px;margin:0 0 12px}.fitdoctor img{max-width:100%;height:auto}
.fitdoctor table{border-collapse:collapse;font-size:13px;width:100%}
.fitdoctor td,.fitdoctor th{padding:4px 8px;border-bottom:1px solid #e7e9ee;text-align:right}
.fitdoctor td:first-child,.fitdoctor th:first-child{text-align:left}
.fitdoctor pre{background:#f1f3f7;border-radius:8px;padding:10px;overflow-x:auto;font-size:12.5px}
.fitdoctor .ev{columns:2;font-size:13px;color:#394150}.fitdoctor .rem{margin:0 0 12px}.fitdoctor .rem p{margin:0 0 4px}
.fitdoctor .add{color:#2e7d32}.fitdoctor .del{color:#b8323a}.fitdoctor .note{color:#5a6272;font-size:13px}
.fitdoctor .two{display:flex;gap:12px;flex-wrap:wrap}.fitdoctor .two>*{flex:1;min-width:280px}
.fitdoctor .context{background:#fff;border-left:4px solid #9aa3b2;border-radius:8px;padding:10px 14px;
margin:-6px 0 18px;font-size:14px}
.fitdoctor.compact{max-width:760px}.fitdoctor.compact .banner{padding:12px 16px;margin-bottom:10px}
.fitdoctor.compact .banner h1{font-size:19px}.fitdoctor.compact .banner p{font-size:14px}
.fitdoctor.compact section{padding:10px 14px;margin-bottom:10px}.fitdoctor.compact h2{font-size:15px;margin:0 0 6px}
.fitdoctor.compact .card b{font-size:18px}.fitdoctor .charts{display:flex;gap:8px;flex-wrap:wrap}
"""
STORY_COLOR = {
    "fixed": "#2e7d32",
    "improved": "#2f6db5",
    "not_improved": "#555",
    "kept_original": "#555",
    "in_progress": "#555",
}


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


class _Page:
    """Collects sections and the PNGs to save beside the HTML.

    A compact page (a notebook card) draws its curves as small SVG charts instead of PNGs.
    """

    def __init__(self, lang: str, compact: bool = False):
        self.lang, self.compact = lang, compact
        self.parts: list[str] = []
        self.images: dict[str, bytes] = {}

    def t(self, key: str, **kw) -> str:
        return html.escape(t(key, self.lang, **kw))

    def img(self, name: str, png: bytes | None, alt: str) -> str:
        if not png:
            return ""
        self.images[name] = png
        return f'<img src="{_data_uri(png)}" alt="{html.escape(alt)}">'

    def section(self, title: str, body: str) -> None:
        if body.strip():
            self.parts.append(f"<section><h2>{title}</h2>{body}</section>")

    def fragment(self) -> str:
        """The collected sections as one scoped fragment (styles included), for a page or a notebook."""
        kind = "fitdoctor compact" if self.compact else "fitdoctor"
        return f'<style>{CSS}</style><div class="{kind}" lang="{_html_lang(self.lang)}">{"".join(self.parts)}</div>'


def _html_lang(lang: str) -> str:
    return "pt-BR" if lang == "pt_BR" else "en"


def _labels(p: _Page, title_key: str) -> dict:
    return {
        "train": t("html.train", p.lang),
        "val": t("html.val", p.lang),
        "epoch": t("html.epoch", p.lang),
        "best": t("html.best", p.lang),
        "onset": t("html.onset", p.lang),
        "title": t(title_key, p.lang),
        "predicted": t("html.predicted", p.lang),
        "true": t("html.true", p.lang),
        "round": t("html.round", p.lang),
    }


def _cards(p: _Page, numbers: list[tuple[str, str]]) -> None:
    if numbers:
        cards = "".join(
            f'<div class="card"><b>{html.escape(v)}</b><span>{html.escape(k)}</span></div>' for k, v in numbers
        )
        p.parts.append(f'<div class="cards">{cards}</div>')


def _banner(p: _Page, d) -> None:
    """The verdict of one diagnosis, in its colour, with its one-sentence summary."""
    color = BANNER.get(d.verdict, "#333")
    confidence = p.t("html.confidence", confidence=f"{d.primary.confidence:.2f}")
    p.parts.append(
        f'<div class="banner" style="background:{color}"><h1>{p.t("verdict." + d.verdict)}</h1>'
        f'<p>{html.escape(d.primary.summary)}</p><p class="confidence">{confidence}</p></div>'
    )


def story(record: dict) -> dict:
    """What a fix run did, as keys and numbers: the problem it started from, the outcome, the rounds.

    Example:
        >>> story({"rounds": [{"round": 0, "verdict": "overfitting", "finished": True, "epochs": 10},
        ...                   {"round": 1, "verdict": "unstable", "finished": True, "epochs": 10}],
        ...        "chosen_round": 1, "before": {"test": {"accuracy": 0.95}},
        ...        "after": {"round": 1, "test": {"accuracy": 0.97}}})["outcome"]
        'improved'
    """
    rounds = [r for r in record.get("rounds", []) if r.get("finished")]
    chosen = record.get("chosen_round") or 0
    kept = next((r for r in rounds if r["round"] == chosen), rounds[-1] if rounds else {})
    before = ((record.get("before") or {}).get("test") or {}).get("accuracy")
    after = ((record.get("after") or {}).get("test") or {}).get("accuracy")
    if before is None or after is None:
        outcome = "in_progress"
    elif chosen == 0:
        outcome = "kept_original"
    elif kept.get("verdict") == "good_fit":
        outcome = "fixed"
    elif after > before:
        outcome = "improved"
    else:
        outcome = "not_improved"
    return {
        "problem": rounds[0]["verdict"] if rounds else "insufficient_data",
        "outcome": outcome,
        "kept_round": chosen,
        "kept_verdict": kept.get("verdict"),
        "rounds": len(rounds),
        "epochs": sum(r.get("epochs", 0) for r in rounds),
        "before": before,
        "after": after,
    }


def _story_banner(p: _Page, record: dict, kept=None) -> None:
    """The treatment's headline ("overfitting -> fixed"), then the kept round's own verdict as context.

    The kept model is the best fitdoctor found on validation: its own verdict is stated as a
    note under the headline, never as an alarm.
    """
    s = story(record)
    head = f"{p.t('verdict.' + s['problem'])} → {p.t('story.' + s['outcome'])}"
    if s["before"] is not None and s["after"] is not None:
        line = p.t(
            "story.accuracy",
            before=f"{s['before']:.4f}",
            after=f"{s['after']:.4f}",
            delta=f"{(s['after'] - s['before']) * 100:+.1f}",
        )
    else:
        line = ""
    line += " " + p.t("story.rounds", rounds=s["rounds"], epochs=s["epochs"], round=s["kept_round"])
    p.parts.append(
        f'<div class="banner" style="background:{STORY_COLOR[s["outcome"]]}"><h1>{head}</h1><p>{line}</p></div>'
    )
    if kept is not None and s["kept_verdict"]:
        p.parts.append(
            f'<div class="context">{p.t("story.kept_verdict", round=s["kept_round"])}'
            f" {html.escape(kept.primary.summary)}</div>"
        )


def _charts(p: _Page, history: dict, d) -> str:
    """Loss and accuracy curves, best epoch and onset marked: PNGs on a page, SVG on a card."""
    f = d.primary
    onset = f.onset_epoch if f.kind in ("overfitting", "diverged", "unstable") else None
    if p.compact:
        from fitdoctor.report.svg import chart

        svgs = [
            chart(history, m, _labels(p, f"html.{m}"), best_epoch=d.best_epoch, onset_epoch=onset)
            for m in ("loss", "accuracy")
        ]
        return '<div class="charts">' + "".join(svgs) + "</div>"
    body = p.img("loss", plots.curves(history, "loss", _labels(p, "html.loss"), d.best_epoch, onset), "loss")
    body += p.img(
        "accuracy", plots.curves(history, "accuracy", _labels(p, "html.accuracy"), d.best_epoch, onset), "accuracy"
    )
    body += p.img("gap", plots.gap(history, _labels(p, "html.gap")), "gap")
    body += p.img("learning_rate", plots.learning_rate(history, _labels(p, "html.lr")), "learning rate")
    return body


def _evidence(p: _Page, d) -> str:
    ev = "".join(
        f"<div>{html.escape(_label(k, p.lang))}: <b>{html.escape(_fmt(v))}</b></div>"
        for k, v in d.primary.evidence.items()
    )
    if p.compact:
        return f'<details><summary>{p.t("report.evidence")}</summary><div class="ev">{ev}</div></details>'
    return f'<h2>{p.t("report.evidence")}</h2><div class="ev">{ev}</div>'


def _curves(p: _Page, history: dict, d) -> None:
    also = "".join(
        f"<li>{p.t('verdict.' + f.kind)}: {html.escape(f.summary)}</li>" for f in d.findings[1:] if f.summary
    )
    also = f'<p class="note">{p.t("report.also")}</p><ul class="note">{also}</ul>' if also else ""
    p.section(p.t("html.curves"), _charts(p, history, d) + also + _evidence(p, d))


def _label(key: str, lang: str) -> str:
    """An evidence name in the page's language ("val_rise" -> "subida da validação")."""
    text = t(f"evidence.{key}", lang)
    return key if text == f"evidence.{key}" else text


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, list):
        return ", ".join(str(x) for x in v[:8])
    return str(v)


def _loss_vs_accuracy(p: _Page, d) -> None:
    f = d.primary
    ev = f.evidence
    if f.kind != "overfitting" or "val_accuracy_end" not in ev:
        return
    loss_change = f"{ev['val_rise'] * 100:+.0f}%"
    acc_change = f"{(ev['val_accuracy_end'] - ev['val_accuracy_at_best']) * 100:+.1f} pt"
    p.section(
        p.t("html.loss_vs_accuracy"),
        "<p>"
        + p.t("html.loss_vs_accuracy_text", loss_change=loss_change, acc_change=acc_change, best=ev["best_epoch"])
        + "</p>",
    )


def _test_metrics(p: _Page, metrics: dict | None, data_dir: Path | None) -> None:
    if not metrics or "confusion_matrix" not in metrics:
        p.section(p.t("html.confusion"), f'<p class="note">{p.t("html.no_test")}</p>')
        return
    names = metrics["class_names"]
    body = p.img(
        "confusion", plots.confusion(metrics["confusion_matrix"], names, _labels(p, "html.confusion")), "confusion"
    )
    rows = "".join(
        f"<tr><td>{html.escape(c)}</td><td>{m['precision']:.3f}</td><td>{m['recall']:.3f}</td>"
        f"<td>{m['f1']:.3f}</td><td>{m['support']}</td></tr>"
        for c, m in metrics["per_class"].items()
    )
    rows += (
        f"<tr><th>{p.t('html.macro')}</th><th>{metrics['macro_precision']:.3f}</th><th>{metrics['macro_recall']:.3f}</th>"
        f"<th>{metrics['macro_f1']:.3f}</th><th>{sum(m['support'] for m in metrics['per_class'].values())}</th></tr>"
    )
    head = "".join(
        f"<th>{p.t(k)}</th>" for k in ("html.class", "html.precision", "html.recall", "html.f1", "html.support")
    )
    table = f"<h2>{p.t('html.per_class')}</h2><table><tr>{head}</tr>{rows}</table>"
    p.section(p.t("html.confusion"), f'<div class="two"><div>{body}</div><div>{table}</div></div>')
    _mistakes(p, metrics.get("worst") or [], data_dir)


def _mistakes(p: _Page, worst: list[dict], data_dir: Path | None) -> None:
    if not worst or data_dir is None:
        return
    import numpy as np
    from PIL import Image

    from fitdoctor.data.upright import viewer_pixels

    images, captions = [], []
    for w in worst[:16]:
        path = data_dir / w.get("path", "")
        if not w.get("path") or not path.is_file():
            continue
        with Image.open(path) as im:
            images.append(np.asarray(viewer_pixels(im, "L" if im.mode in ("L", "1", "I;16", "I") else "RGB")))
        captions.append(
            t("html.mistake_caption", p.lang, true=w["true"], predicted=w["predicted"]) + f"\n{w['loss']:.2f}"
        )
    p.section(
        p.t("html.mistakes"),
        p.img("mistakes", plots.mistakes(images, captions, _labels(p, "html.mistakes")), "mistakes"),
    )


def _dataset(p: _Page, info: dict | None, data_dir: Path | None) -> None:
    if not info:
        return
    body = p.img("counts", plots.counts(info.get("counts") or {}, _labels(p, "html.counts")), "counts")
    if data_dir and data_dir.is_dir():
        from fitdoctor.data.split import saved_inspection

        ins = saved_inspection(data_dir)  # saved by the split: the data is not decoded again
        if ins:
            facts = [
                (p.t("html.duplicates"), len(ins["duplicates"])),
                (p.t("html.near_duplicates"), len(ins["near_duplicates"])),
                (p.t("html.leakage"), len(ins["leakage"])),
            ]
            left = data_dir / "left_out.csv"
            left_rows = left.read_text(encoding="utf-8").splitlines()[1:] if left.exists() else []
            facts.append((p.t("html.left_out"), len(left_rows)))
            body += "<table>" + "".join(f"<tr><td>{k}</td><td>{v}</td></tr>" for k, v in facts) + "</table>"
            if left_rows:
                body += "<pre>" + html.escape("\n".join(left_rows[:20])) + "</pre>"
    p.section(p.t("html.dataset"), body)


def _remedies(p: _Page, d, limit: int = 5) -> None:
    f = d.primary
    items = "".join(
        f'<div class="rem"><p>{i}. {html.escape(r.why)}</p><pre>{html.escape(r.keras)}</pre></div>'
        for i, r in enumerate(f.remedies[:limit], 1)
    )
    notes = "".join(f'<p class="note">{html.escape(n)}</p>' for n in d.notes)
    p.section(p.t("html.remedies"), items + notes)


def _diff_html(diff: str) -> str:
    out = []
    for line in diff.splitlines():
        cls = (
            "add"
            if line.startswith("+") and not line.startswith("+++")
            else ("del" if line.startswith("-") and not line.startswith("---") else "")
        )
        out.append(f'<span class="{cls}">{html.escape(line)}</span>' if cls else html.escape(line))
    return "<pre>" + "\n".join(out) + "</pre>"


def _round_summary(r: dict, lang: str) -> str:
    """A round's diagnosis in the page's language, rendered from its record (no new diagnosis)."""
    return summary_text(r["findings"], lang) if r.get("findings") else ""


def _before_after(p: _Page, record: dict) -> str:
    if not record.get("after"):
        return ""
    b, a = record["before"]["test"], record["after"]["test"]
    rows = "".join(
        f"<tr><td>{p.t('metric.' + k)}</td><td>{b.get(k, 0):.4f}</td><td>{a.get(k, 0):.4f}</td></tr>"
        for k in ("accuracy", "loss", "macro_precision", "macro_recall", "macro_f1")
        if k in a
    )
    return (
        f"<h2>{p.t('html.before_after')}</h2><table><tr><th></th><th>{p.t('html.before')}</th>"
        f"<th>{p.t('html.after', round=record['after']['round'])}</th></tr>{rows}</table>"
    )


def _treatment(p: _Page, record: dict) -> None:
    rounds = [r for r in record["rounds"] if r.get("finished")]
    body = ""
    if not p.compact:
        png = plots.rounds(
            [r["val"]["accuracy"] or 0 for r in rounds],
            [t(f"verdict.{r['verdict']}", p.lang) for r in rounds],
            record.get("chosen_round"),
            _labels(p, "html.rounds_plot"),
        )
        body = p.img("rounds", png, "rounds")
    for r in rounds:
        kept = " ✓" if r["round"] == (record.get("chosen_round") or 0) else ""
        accuracy = r["val"].get("accuracy")
        accuracy = f" — {p.t('html.val_accuracy')} {accuracy:.4f}" if accuracy is not None else ""
        body += f"<h2>{p.t('html.round')} {r['round']}: {p.t('verdict.' + r['verdict'])}{accuracy}{kept}</h2>"
        if r.get("undo"):  # this round started again from a better spec: say which change was blamed
            body += f'<p class="note">↺ {html.escape(render(r["undo"]["because"], p.lang))}</p>'
        if r.get("remedies"):
            body += (
                "<ul>"
                + "".join(
                    f"<li><b>{html.escape(render(x['change'], p.lang))}</b> — "
                    f"{p.t('html.because')} {html.escape(render(x['because'], p.lang))}</li>"
                    for x in r["remedies"]
                )
                + "</ul>"
            )
            body += f"<details><summary>{p.t('html.spec_diff')}</summary>{_diff_html(r.get('spec_diff', ''))}</details>"
        if not p.compact:
            body += f'<p class="note">{html.escape(_round_summary(r, p.lang))}</p>'
    body += _before_after(p, record)
    p.section(p.t("html.treatment"), body)


def _diagnosis_numbers(d, lang: str) -> list[tuple[str, str]]:
    numbers = [(t("html.best_epoch", lang), str(d.best_epoch or "-")), (t("html.epochs", lang), str(d.epochs))]
    import numpy as np

    val_loss = d.history.get("val_loss") if d.history is not None else None
    if val_loss is not None and np.isfinite(val_loss).any():
        numbers.append((t("html.best_val_loss", lang), f"{np.min(val_loss[np.isfinite(val_loss)]):.4f}"))
    return numbers


def diagnosis_card(d, *, numbers: list[tuple[str, str]] | None = None) -> str:
    """A diagnosis as a notebook card: verdict banner, curves, evidence, remedies with their Keras code.

    Example:
        >>> from fitdoctor.diagnosis.engine import diagnose, summary_text
        >>> card = diagnosis_card(diagnose({"loss": [1.0, 0.6, 0.4, 0.3, 0.2], "val_loss": [1.0, 0.7, 0.6, 0.7, 0.9]}))
        >>> 'class="fitdoctor compact"' in card and "<svg" in card
        True
    """
    p = _Page(d.lang, compact=True)
    _banner(p, d)
    _cards(p, numbers if numbers is not None else _diagnosis_numbers(d, d.lang))
    if d.history is not None:
        _curves(p, _plain_history(d.history), d)
    _remedies(p, d, limit=3)
    return p.fragment()


def live_card(history: dict, d, found: list, flagged: dict, epoch: int, stopped: str = "") -> str:
    """What the live display shows after an epoch: the current finding (or "watching") and the curves.

    Args:
        history: The History dict so far.
        d: The diagnosis of that history.
        found: The findings worth flagging now (`training.callback.live_findings`).
        flagged: Finding kind -> the epoch it was first flagged.
        epoch: The 1-based epoch just finished.
        stopped: A line saying the callback stopped training, or "".

    Example:
        >>> from fitdoctor.diagnosis.engine import diagnose, summary_text
        >>> h = {"loss": [1.0, 0.6, 0.4], "val_loss": [1.0, 0.7, 0.6]}
        >>> "watching" in live_card(h, diagnose(h, lang="en"), [], {}, 3)
        True
    """
    p = _Page(d.lang, compact=True)
    title = p.t("live.epoch", epoch=epoch)
    if found:
        f = found[0]
        color = BANNER.get(f.kind, "#333")
        head = f"{p.t('verdict.' + f.kind)} · {title}"
        text = html.escape(f.summary)
        onset = f.onset_epoch if f.kind in ("overfitting", "diverged", "unstable") else None
    else:
        color, head, text, onset = "#3d4a5c", title, p.t("live.watching"), None
    if stopped:
        text += f"<br>{html.escape(stopped)}"
    p.parts.append(f'<div class="banner" style="background:{color}"><h1>{head}</h1><p>{text}</p></div>')
    others = "".join(
        f"<li>{p.t('live.flagged', verdict=t('verdict.' + kind, p.lang), epoch=at)}</li>"
        for kind, at in flagged.items()
    )
    if others:
        p.parts.append(f'<ul class="note">{others}</ul>')
    from fitdoctor.report.svg import chart

    charts = [
        chart(history, m, _labels(p, f"html.{m}"), best_epoch=d.best_epoch, onset_epoch=onset)
        for m in ("loss", "accuracy")
    ]
    p.parts.append('<div class="charts">' + "".join(charts) + "</div>")
    return p.fragment()


def _plain_history(h) -> dict:
    """A `History`'s series as plain lists (what the charts take)."""
    return {k: [float(x) for x in v] for k, v in h.series.items()}


def run_card(result) -> str:
    """A finished `train` run as a notebook card: its numbers and the diagnosis of its history."""
    lang = result.diagnosis.lang
    numbers = _diagnosis_numbers(result.diagnosis, lang)
    val = (result.metrics or {}).get("val") or {}
    test = (result.metrics or {}).get("test") or {}
    if val.get("accuracy") is not None:
        numbers.append((t("html.val_accuracy", lang), f"{val['accuracy']:.4f}"))
    if test.get("accuracy") is not None:
        numbers.append((t("html.test_accuracy", lang), f"{test['accuracy']:.4f}"))
    return diagnosis_card(result.diagnosis, numbers=numbers)


def treatment_card(record: dict, lang: str | None = None) -> str:
    """A `fix` record as a notebook card: the story headline, the rounds and their remedies, before/after.

    Example:
        >>> card = treatment_card({"rounds": [{"round": 0, "verdict": "overfitting", "finished": True,
        ...                                    "epochs": 10, "val": {"accuracy": 0.9}}], "chosen_round": 0})
        >>> "OVERFITTING" in card.upper()
        True
    """
    p = _Page(resolve_lang(lang), compact=True)
    _story_banner(p, record)
    _treatment(p, record)
    return p.fragment()


class Report:
    """The report of a run: shown inline in a notebook, written to a file with `save`.

    Args:
        run_dir: The run (train or fix) it was built from.
        lang: "en" or "pt_BR".
        body: The scoped HTML fragment (styles included).
        images: The PNG plots by name, saved beside the page.
    """

    def __init__(self, run_dir: Path, lang: str, body: str, images: dict[str, bytes]):
        self.run_dir, self.lang, self.body, self.images = run_dir, lang, body, images

    def _repr_html_(self) -> str:
        return self.body

    def page(self) -> str:
        """The whole self-contained HTML document."""
        return (
            f'<!DOCTYPE html><html lang="{_html_lang(self.lang)}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(t('html.title', self.lang))}</title><style>{PAGE_CSS}</style></head>"
            f"<body><main>{self.body}</main></body></html>"
        )

    def save(self, path: str | os.PathLike | None = None, *, force: bool = False) -> Path:
        """Write the page (default `RUNDIR/report.html`, `report.pt.html` in Portuguese) and its PNGs beside it.

        An earlier fitdoctor report at that place is replaced. Any other existing file is kept
        unless `force`, and the run's own files (history, spec, models...) are never written over.
        """
        out = Path(path) if path else RunDir(self.run_dir).report_path(self.lang)
        targets = [out, *(out.parent / f"{out.stem}-{name}.png" for name in self.images)]
        own = {p.resolve() for p in self.run_dir.rglob("*") if p.is_file() and not p.name.startswith("report")}
        for target in targets:
            if target.exists() and target.resolve() in own:
                raise UserError(
                    _(
                        "'{target}' is one of the run's own files; a report never replaces it. Pass another --out.",
                        target=target,
                    )
                )
        if not force and any(t.exists() for t in targets) and not _is_report(out):
            taken = next(t for t in targets if t.exists())
            raise UserError(
                _(
                    "'{taken}' already exists and is not a fitdoctor report. Pass another --out, or --force.",
                    taken=taken,
                )
            )
        out.parent.mkdir(parents=True, exist_ok=True)
        write_text(out, self.page())
        for name, png in self.images.items():
            with atomic_open(out.parent / f"{out.stem}-{name}.png", "wb") as f:
                f.write(png)
        return out

    def __repr__(self) -> str:
        return f"Report({str(self.run_dir)!r}, lang={self.lang!r})"


def _is_report(path: Path) -> bool:
    """Whether a file is a page fitdoctor wrote (so a new report may replace it)."""
    try:
        with open(path, encoding="utf-8") as f:
            head = f.read(200_000)  # the marker sits after the inline styles
    except (OSError, UnicodeDecodeError):
        return False
    return head.startswith("<!DOCTYPE html>") and '<div class="fitdoctor"' in head


@validate_params(RULES["report"], where="report")
def report(run_dir: str | os.PathLike, lang: str | None = None) -> Report:
    """The report of a run (train or fix): a notebook shows it inline; `.save()` writes the HTML file.

    Example:
        >>> import fitdoctor
        >>> fitdoctor.report("runs/demo").save()  # doctest: +SKIP
        PosixPath('runs/demo/report.html')
    """
    from fitdoctor import __version__

    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise UserError(
            _(
                "Run directory '{run_dir}' does not exist. Pass a folder made by 'fitdoctor train' or 'fitdoctor fix'.",
                run_dir=run_dir,
            )
        )
    language = resolve_lang(lang)
    run = RunDir(run_dir)
    record = run.treatment()
    main = run.main_run()
    if not main.has_history():
        raise UserError(
            _(
                "'{path}' has no history.json. Pass a folder made by 'fitdoctor train' or 'fitdoctor fix'.",
                path=main.path,
            )
        )
    history = main.history()
    info = main.info()
    metrics = main.metrics()
    test = ((record.get("after") or {}).get("test") if record else None) or metrics.get("test")
    d = diagnose(main.path, lang=language)
    p = _Page(language)
    val = metrics.get("val") or {}
    numbers = _diagnosis_numbers(d, language)
    if val.get("accuracy") is not None:
        numbers.append((t("html.val_accuracy", language), f"{val['accuracy']:.4f}"))
    if test:
        numbers.append((t("html.test_accuracy", language), f"{test['accuracy']:.4f}"))
    if record:
        _story_banner(p, record, kept=d)
    else:
        _banner(p, d)
    _cards(p, numbers)
    if record:
        _treatment(p, record)
    _curves(p, history, d)
    _loss_vs_accuracy(p, d)
    _remedies(p, d)
    data_dir = Path(info["data"]) if info.get("data") else None
    _test_metrics(p, test, data_dir)
    _dataset(p, info, data_dir)
    p.parts.append(f'<p class="note">{p.t("html.generated", version=__version__, source=str(run_dir))}</p>')
    return Report(run_dir, language, p.fragment(), p.images)


def build_report(
    run_dir: str | os.PathLike, out: str | os.PathLike | None = None, lang: str | None = None, *, force: bool = False
) -> Path:
    """Write the report of a run (train or fix) and its PNG plots; return the HTML path (see `Report.save`).

    Example:
        >>> build_report("runs/demo")  # doctest: +SKIP
        PosixPath('runs/demo/report.html')
    """
    return report(run_dir, lang).save(out, force=force)
