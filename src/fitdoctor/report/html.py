"""`fitdoctor report`: one self-contained HTML page for a train run or a fix run.

Plots are embedded as PNG data URIs (and saved beside the HTML), styles are inline,
nothing is fetched from the network: the file opens offline, anywhere.
"""

from __future__ import annotations

import base64
import html
import json
import os
from pathlib import Path

from fitdoctor.diagnosis.engine import diagnose
from fitdoctor.diagnosis.messages import resolve_lang, t
from fitdoctor.errors import UserError
from fitdoctor.fsio import atomic_open, write_text
from fitdoctor.report import plots
from fitdoctor.treatment.change import render

BANNER = {
    "good_fit": "#2e7d32",
    "still_improving": "#b26a00",
    "overfitting": "#b8323a",
    "underfitting": "#6a4fb3",
    "unstable": "#a15c00",
    "diverged": "#7b1f24",
    "insufficient_data": "#555",
}
CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;margin:0;
background:#f6f7f9;color:#1d2330}
main{max-width:980px;margin:0 auto;padding:24px}
.banner{color:#fff;border-radius:14px;padding:22px 26px;margin-bottom:18px}
.banner h1{margin:0 0 6px;font-size:30px;letter-spacing:.5px;text-transform:uppercase}
.banner p{margin:0;font-size:16px;line-height:1.45;opacity:.95}
.cards{display:flex;gap:12px;flex-wrap:wrap;margin-bottom:18px}
.card{background:#fff;border-radius:12px;padding:12px 16px;flex:1;min-width:150px;box-shadow:0 1px 3px #0001}
.card b{display:block;font-size:24px}.card span{color:#5a6272;font-size:13px}
section{background:#fff;border-radius:12px;padding:16px 20px;margin-bottom:18px;box-shadow:0 1px 3px #0001}
h2{font-size:19px;margin:0 0 12px}img{max-width:100%;height:auto}
table{border-collapse:collapse;font-size:13px;width:100%}
td,th{padding:4px 8px;border-bottom:1px solid #e7e9ee;text-align:right}
td:first-child,th:first-child{text-align:left}pre{background:#f1f3f7;border-radius:8px;padding:10px;overflow-x:auto;font-size:12.5px}
.ev{columns:2;font-size:13px;color:#394150}.rem{margin:0 0 12px}.rem p{margin:0 0 4px}
.add{color:#2e7d32}.del{color:#b8323a}.note{color:#5a6272;font-size:13px}.two{display:flex;gap:12px;flex-wrap:wrap}.two>*{flex:1;min-width:280px}
"""


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _read(path: Path):
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


class _Page:
    """Collects sections and the PNGs to save beside the HTML."""

    def __init__(self, lang: str, stem: Path):
        self.lang, self.stem = lang, stem
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


def _banner(p: _Page, d, numbers: list[tuple[str, str]]) -> None:
    f = d.primary
    color = BANNER.get(d.verdict, "#333")
    p.parts.append(
        f'<div class="banner" style="background:{color}"><h1>{p.t("verdict." + d.verdict)}</h1>'
        f"<p>{html.escape(f.summary)}</p></div>"
    )
    cards = "".join(f'<div class="card"><b>{html.escape(v)}</b><span>{html.escape(k)}</span></div>' for k, v in numbers)
    p.parts.append(f'<div class="cards">{cards}</div>')


def _curves(p: _Page, history: dict, d) -> None:
    f = d.primary
    onset = f.onset_epoch if f.kind in ("overfitting", "diverged", "unstable") else None
    body = p.img("loss", plots.curves(history, "loss", _labels(p, "html.loss"), d.best_epoch, onset), "loss")
    body += p.img(
        "accuracy", plots.curves(history, "accuracy", _labels(p, "html.accuracy"), d.best_epoch, onset), "accuracy"
    )
    body += p.img("gap", plots.gap(history, _labels(p, "html.gap")), "gap")
    body += p.img("learning_rate", plots.learning_rate(history, _labels(p, "html.lr")), "learning rate")
    ev = "".join(
        f"<div>{html.escape(_label(k, p.lang))}: <b>{html.escape(_fmt(v))}</b></div>" for k, v in f.evidence.items()
    )
    body += f'<h2>{p.t("report.evidence")}</h2><div class="ev">{ev}</div>'
    p.section(p.t("html.curves"), body)


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
    if not metrics or "confusion_matrix" not in metrics or metrics.get("split") != "test":
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

    images, captions = [], []
    for w in worst[:16]:
        path = data_dir / w.get("path", "")
        if not w.get("path") or not path.is_file():
            continue
        with Image.open(path) as im:
            images.append(np.asarray(im.convert("L" if im.mode in ("L", "1", "P") else "RGB")))
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
        from fitdoctor.data.inspect import inspect_folder

        try:
            ins = inspect_folder(data_dir)
        except UserError:
            ins = None
        if ins:
            facts = [
                (p.t("html.duplicates"), len(ins.duplicates)),
                (p.t("html.near_duplicates"), len(ins.near_duplicates)),
                (p.t("html.leakage"), len(ins.leakage)),
            ]
            left = data_dir / "left_out.csv"
            left_rows = left.read_text(encoding="utf-8").splitlines()[1:] if left.exists() else []
            facts.append((p.t("html.left_out"), len(left_rows) + len(ins.problems)))
            body += "<table>" + "".join(f"<tr><td>{k}</td><td>{v}</td></tr>" for k, v in facts) + "</table>"
            if left_rows:
                body += "<pre>" + html.escape("\n".join(left_rows[:20])) + "</pre>"
    p.section(p.t("html.dataset"), body)


def _remedies(p: _Page, d) -> None:
    f = d.primary
    items = "".join(
        f'<div class="rem"><p>{i}. {html.escape(r.why)}</p><pre>{html.escape(r.keras)}</pre></div>'
        for i, r in enumerate(f.remedies[:5], 1)
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


def _round_summary(run_dir: Path, r: dict, lang: str) -> str:
    """A round's diagnosis in the page's language (the record holds it in the language of the fix run)."""
    round_dir = run_dir / "rounds" / f"{r['round']:02d}"
    try:
        return diagnose(round_dir, lang=lang).primary.summary
    except UserError:
        return r.get("summary", "")


def _treatment(p: _Page, record: dict, run_dir: Path) -> None:
    rounds = [r for r in record["rounds"] if r.get("finished")]
    png = plots.rounds(
        [r["val"]["accuracy"] or 0 for r in rounds],
        [t(f"verdict.{r['verdict']}", p.lang) for r in rounds],
        record.get("chosen_round"),
        _labels(p, "html.rounds_plot"),
    )
    body = p.img("rounds", png, "rounds")
    for r in rounds:
        body += f"<h2>{p.t('html.round')} {r['round']}: {p.t('verdict.' + r['verdict'])}</h2>"
        if r.get("remedies"):
            body += (
                "<ul>"
                + "".join(
                    f"<li><b>{html.escape(render(x['change'], x.get('change_message'), p.lang))}</b> — "
                    f"{p.t('html.because')} {html.escape(render(x['because'], x.get('because_message'), p.lang))}</li>"
                    for x in r["remedies"]
                )
                + "</ul>"
            )
            body += f"<details><summary>{p.t('html.spec_diff')}</summary>{_diff_html(r.get('spec_diff', ''))}</details>"
        body += f'<p class="note">{html.escape(_round_summary(run_dir, r, p.lang))}</p>'
    if record.get("after"):
        b, a = record["before"]["test"], record["after"]["test"]
        rows = "".join(
            f"<tr><td>{p.t('metric.' + k)}</td><td>{b.get(k, 0):.4f}</td><td>{a.get(k, 0):.4f}</td></tr>"
            for k in ("accuracy", "loss", "macro_precision", "macro_recall", "macro_f1")
            if k in a
        )
        body += (
            f"<h2>{p.t('html.before_after')}</h2><table><tr><th></th><th>{p.t('html.before')}</th>"
            f"<th>{p.t('html.after', round=record['after']['round'])}</th></tr>{rows}</table>"
        )
    p.section(p.t("html.treatment"), body)


def build_report(run_dir: str | os.PathLike, out: str | os.PathLike | None = None, lang: str | None = None) -> Path:
    """Write the report of a run (train or fix) and its PNG plots; return the HTML path.

    Example:
        >>> build_report("runs/demo")  # doctest: +SKIP
        PosixPath('runs/demo/report.html')
    """
    from fitdoctor import __version__

    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise UserError(
            f"Run directory '{run_dir}' does not exist. Pass a folder made by 'fitdoctor train' or 'fitdoctor fix'."
        )
    language = resolve_lang(lang)
    record = _read(run_dir / "treatment.json")
    main = run_dir
    metrics = None
    if record:
        chosen = record.get("chosen_round") or 0
        main = run_dir / "rounds" / f"{chosen:02d}"
        metrics = (record.get("after") or {}).get("test")
    if not (main / "history.json").exists():
        raise UserError(f"'{main}' has no history.json. Pass a folder made by 'fitdoctor train' or 'fitdoctor fix'.")
    history = _read(main / "history.json")
    info = _read(main / "run.json") or {}
    metrics = metrics or _read(main / "metrics.json")
    d = diagnose(main, lang=language)
    out = Path(out) if out else run_dir / ("report.html" if language == "en" else "report.pt.html")
    p = _Page(language, out.with_suffix(""))
    val = (metrics or {}).get("val") or (_read(main / "metrics.json") or {}).get("val") or {}
    numbers = [(t("html.best_epoch", language), str(d.best_epoch or "-")), (t("html.epochs", language), str(d.epochs))]
    if history.get("val_loss"):
        numbers.append(
            (t("html.best_val_loss", language), f"{min(v for v in history['val_loss'] if v is not None):.4f}")
        )
    if val.get("accuracy") is not None:
        numbers.append((t("html.val_accuracy", language), f"{val['accuracy']:.4f}"))
    if metrics and metrics.get("split") == "test":
        numbers.append((t("html.test_accuracy", language), f"{metrics['accuracy']:.4f}"))
    _banner(p, d, numbers)
    if record:
        _treatment(p, record, run_dir)
    _curves(p, history, d)
    _loss_vs_accuracy(p, d)
    _remedies(p, d)
    data_dir = Path(info["data"]) if info.get("data") else None
    _test_metrics(p, metrics, data_dir)
    _dataset(p, info, data_dir)
    footer = f'<p class="note">{p.t("html.generated", version=__version__, source=str(run_dir))}</p>'
    page = (
        f'<!DOCTYPE html><html lang="{"pt-BR" if language == "pt_BR" else "en"}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{p.t("html.title")}</title>'
        f"<style>{CSS}</style></head><body><main>{''.join(p.parts)}{footer}</main></body></html>"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    write_text(out, page)
    for name, png in p.images.items():
        with atomic_open(out.parent / f"{out.stem}-{name}.png", "wb") as f:
            f.write(png)
    return out
