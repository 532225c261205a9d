"""Diagnosis quality and speed: fitdoctor against the peers' rules, on the same files.

Sets: the OverfitGuard simulated histories (../shared/datasets/overfitguard-simulated, 419 files,
labelled overfit / non_overfit); fitdoctor's development corpus of real Keras trainings
(benchmarks/corpus, made by make_corpus.py, the set the rules were developed on); and two
held-out corpora (benchmarks/heldout and benchmarks/heldout2, made by make_heldout.py, each
labelled by eye before fitdoctor read it, never tuned on; the second was made after the first
had been read). Every corpus history is scored bare (as `model.fit().history` gives it)
and with its metadata (class count, loss name). One set of settings for everything. Peers:
always "overfit", UMLAUT's one-epoch rule, Prechelt's GL5 / GL20 / UP3 stopping criteria, and
Keras EarlyStopping(patience=10) firing.

    python benchmarks/diagnosis_bench.py     # writes benchmarks/results/diagnosis.{md,json} and corpus_curves.png
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from fitdoctor.diagnosis.engine import diagnose

HERE = Path(__file__).resolve().parent
OVERFITGUARD = HERE.parents[1] / "shared" / "datasets" / "overfitguard-simulated"
RESULTS = HERE / "results"


def _series(data: dict) -> tuple[np.ndarray, np.ndarray]:
    if "train_metric" in data:
        return np.array(data[data["train_metric"]], float), np.array(data[data["monitor_metric"]], float)
    h = data["history"]
    return np.array(h["loss"], float), np.array(h["val_loss"], float)


def always(t, v) -> bool:
    return True


def umlaut(t, v) -> bool:
    """UMLAUT: validation loss goes up for one epoch while training loss goes down."""
    return bool(np.any((np.diff(v) > 0) & (np.diff(t) < 0)))


def gl(alpha: float):
    def rule(t, v) -> bool:
        """Prechelt GL_alpha: 100 * (E_va(t) / min E_va - 1) > alpha at some epoch."""
        best = np.minimum.accumulate(v)
        return bool(np.any(100 * (v / best - 1) > alpha))

    return rule


def up(s: int, k: int = 5):
    def rule(t, v) -> bool:
        """Prechelt UP_s: validation error up at the end of s successive strips of length k."""
        ends = v[k - 1 :: k]
        run = 0
        for a, b in zip(ends[:-1], ends[1:], strict=True):
            run = run + 1 if b > a else 0
            if run >= s:
                return True
        return False

    return rule


def early_stopping(patience: int = 10):
    def rule(t, v) -> bool:
        """keras.callbacks.EarlyStopping(monitor='val_loss', patience) would stop training."""
        best, wait = np.inf, 0
        for x in v:
            if x < best:
                best, wait = x, 0
            else:
                wait += 1
                if wait >= patience:
                    return True
        return False

    return rule


PEERS = {
    "always overfit": always,
    "UMLAUT one-epoch": umlaut,
    "Prechelt GL5": gl(5),
    "Prechelt GL20": gl(20),
    "Prechelt UP3": up(3),
    "EarlyStopping(patience=10)": early_stopping(10),
}


def f1(pred: list[bool], truth: list[bool]) -> dict:
    tp = sum(p and y for p, y in zip(pred, truth, strict=True))
    fp = sum(p and not y for p, y in zip(pred, truth, strict=True))
    fn = sum(y and not p for p, y in zip(pred, truth, strict=True))
    return {"f1": round(2 * tp / max(2 * tp + fp + fn, 1), 3), "tp": tp, "fp": fp, "fn": fn}


def load_overfitguard() -> list[dict]:
    out = []
    for label in ("overfit", "non_overfit"):
        for path in sorted(glob.glob(str(OVERFITGUARD / label / "*.json"))):
            out.append({"path": path, "overfit": label == "overfit", "data": json.loads(Path(path).read_text())})
    return out


def load_corpus() -> list[dict]:
    reviewed = json.loads((HERE / "corpus" / "labels.json").read_text())
    out = []
    for path in sorted((HERE / "corpus").glob("[0-9]*.json")):
        data = json.loads(path.read_text())
        label = reviewed.get(path.stem, {}).get("label", data["label"])
        out.append(
            {
                "path": str(path),
                "label": label,
                "design": data["label"],
                "overfit": label == "overfitting",
                "data": data,
            }
        )
    return out


def load_heldout(folder: str = "heldout") -> list[dict]:
    labels = json.loads((HERE / folder / "labels.json").read_text())
    out = []
    for path in sorted((HERE / folder).glob("[0-9]*.json")):
        data = json.loads(path.read_text())
        data["num_classes"] = data["classes"]
        label = labels[path.stem]
        out.append(
            {
                "path": str(path),
                "label": label["label"],
                "acceptable": label["acceptable"],
                "design": label["label"],
                "overfit": label["label"] == "overfitting",
                "data": data,
            }
        )
    return out


def with_metadata(x: dict):
    """The history with the class count and loss name a run directory would give."""
    from fitdoctor.diagnosis.history import from_dict

    h = from_dict(x["data"]["history"])
    h.num_classes = x["data"]["num_classes"]
    h.loss_name = x["data"].get("loss") or "sparse_categorical_crossentropy"
    return diagnose(h, lang="en")


def score_corpus(items: list[dict]) -> dict:
    """Primary verdicts bare and with metadata against the labels; family invariance; per label."""
    from fitdoctor.diagnosis.findings import FAMILY

    rows, per_label = [], {}
    for x in items:
        bare, meta = diagnose(x["data"]["history"], lang="en"), with_metadata(x)
        ok = x.get("acceptable") or [x["label"]]
        row = {
            "run": Path(x["path"]).stem,
            "label": x["label"],
            "bare": bare.verdict,
            "with_metadata": meta.verdict,
            "bare_acceptable": bare.verdict in ok,
            "metadata_acceptable": meta.verdict in ok,
            "same_family": FAMILY[bare.verdict] == FAMILY[meta.verdict],
        }
        rows.append(row)
        t = per_label.setdefault(x["label"], {"runs": 0, "bare": 0, "with_metadata": 0, "verdicts_bare": {}})
        t["runs"] += 1
        t["bare"] += row["bare_acceptable"]
        t["with_metadata"] += row["metadata_acceptable"]
        t["verdicts_bare"][bare.verdict] = t["verdicts_bare"].get(bare.verdict, 0) + 1
    n = len(rows)
    return {
        "runs": n,
        "bare_acceptable": sum(r["bare_acceptable"] for r in rows),
        "metadata_acceptable": sum(r["metadata_acceptable"] for r in rows),
        "bare_exact": sum(r["bare"] == r["label"] for r in rows),
        "same_family": sum(r["same_family"] for r in rows),
        "per_label": per_label,
        "misses": [r for r in rows if not (r["bare_acceptable"] and r["metadata_acceptable"])],
        "diagnoses_bare": [diagnose(x["data"]["history"], lang="en") for x in items],
    }


def kept_round_verdicts() -> dict:
    """How often each verdict is given to the kept round of `fitdoctor fix` in the treatment benchmark."""
    path = RESULTS / "treatment.json"
    if not path.exists():
        return {}
    counts: dict[str, int] = {}
    for row in json.loads(path.read_text()).values():
        verdict = row["rounds"][row.get("chosen_round") or 0]
        counts[verdict] = counts.get(verdict, 0) + 1
    return counts


def score_overfitting(items: list[dict], diag) -> dict:
    truth = [x["overfit"] for x in items]
    table = {}
    fd = [any(f.kind == "overfitting" for f in d.findings) for d in diag]
    table["fitdoctor"] = f1(fd, truth)
    for name, rule in PEERS.items():
        preds = []
        for x in items:
            t, v = _series(x["data"])
            ok = np.isfinite(v) & np.isfinite(t)
            preds.append(rule(t[ok], v[ok]) if ok.sum() >= 2 else False)
        table[name] = f1(preds, truth)
    return table


def replay_flag(history: dict, num_classes: int) -> int | None:
    """The epoch at which the FitDoctor callback first flags overfitting, replayed on a saved history."""
    from fitdoctor.training.callback import live_findings

    n = len(history["loss"])
    for epoch in range(1, n + 1):
        partial = {k: v[:epoch] for k, v in history.items()}
        d = diagnose(partial, lang="en", num_classes=num_classes)
        if any(f.kind == "overfitting" for f in live_findings(d)):
            return epoch
    return None


def live_use(corpus: list[dict]) -> dict:
    rows, false_flags = [], []
    for x in corpus:
        h = x["data"]["history"]
        v = np.array(h["val_loss"], float)
        flagged = replay_flag(h, x["data"]["num_classes"])
        if x["label"] != "overfitting":
            if flagged is not None and x["label"] in ("good_fit", "still_improving", "underfitting"):
                best = int(np.argmin(v)) + 1
                restored = int(np.argmin(v[:flagged])) + 1
                false_flags.append(
                    {
                        "run": Path(x["path"]).stem,
                        "label": x["label"],
                        "flagged": flagged,
                        "epochs": len(v),
                        "best_epoch": best,
                        "restored_is_best": restored == best,
                    }
                )
            continue
        best = int(np.argmin(v)) + 1
        es_stop = _es_stop_epoch(v, 10)
        restored = int(np.argmin(v[:flagged])) + 1 if flagged else None
        rows.append(
            {
                "run": Path(x["path"]).stem,
                "best_epoch": best,
                "flagged": flagged,
                "delay": None if flagged is None else flagged - best,
                "earlystopping_stops": es_stop,
                "epochs_saved": None if flagged is None or es_stop is None else es_stop - flagged,
                "restored_is_best": restored == best,
            }
        )
    delays = [r["delay"] for r in rows if r["delay"] is not None]
    saved = [r["epochs_saved"] for r in rows if r["epochs_saved"] is not None]
    return {
        "runs": rows,
        "flagged": sum(r["flagged"] is not None for r in rows),
        "total": len(rows),
        "within_3": sum(0 <= d <= 3 for d in delays),
        "before_best": sum(d < 0 for d in delays),
        "later_than_3": sum(d > 3 for d in delays),
        "median_delay": float(np.median(delays)) if delays else None,
        "mean_epochs_saved": round(float(np.mean(saved)), 1) if saved else None,
        "restored_best": sum(r["restored_is_best"] for r in rows),
        "false_flags": false_flags,
    }


def early_warning_on_overfitguard(og: list[dict]) -> dict:
    """The early-warning rule alone on every prefix of the OverfitGuard histories (false alarms, mostly).

    Not a full replay of the callback (1,000 epochs each would take long): the rule itself, which
    speaks only within 6 epochs of the best one; the full rule's figures are the F1 table.
    """
    from fitdoctor.diagnosis.history import from_dict
    from fitdoctor.diagnosis.rules import early_overfitting

    counts = {"overfit": [0, 0], "non_overfit": [0, 0]}
    for x in og:
        d = x["data"]
        t, v = d[d["train_metric"]], d[d["monitor_metric"]]
        fired = any(
            early_overfitting(from_dict({"loss": t[:n], "val_loss": v[:n]})) is not None for n in range(3, len(v) + 1)
        )
        row = counts["overfit" if x["overfit"] else "non_overfit"]
        row[0] += fired
        row[1] += 1
    return {k: {"flagged": a, "runs": b} for k, (a, b) in counts.items()}


def _es_stop_epoch(v: np.ndarray, patience: int) -> int | None:
    best, wait = np.inf, 0
    for i, x in enumerate(v):
        if x < best:
            best, wait = x, 0
        else:
            wait += 1
            if wait >= patience:
                return i + 1
    return None


def speed() -> dict:
    files = sorted(glob.glob(str(OVERFITGUARD / "*" / "*.json")))[:100]
    with tempfile.TemporaryDirectory() as tmp:
        for i, f in enumerate(files):
            shutil.copy(f, Path(tmp) / f"{i:03d}.json")
        start = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "fitdoctor", "diagnose", "--json", *sorted(glob.glob(f"{tmp}/*.json"))],
            capture_output=True,
            text=True,
        )
        seconds = time.perf_counter() - start
        code = "import sys, fitdoctor.cli as c; c.main(sys.argv[1:]); print('tensorflow' in sys.modules)"
        tf = subprocess.run(
            [sys.executable, "-c", code, "diagnose", "--json", files[0]], capture_output=True, text=True
        )
    return {
        "histories": len(files),
        "epochs_each": 1000,
        "seconds": round(seconds, 2),
        "exit_code": proc.returncode,
        "lines": len(proc.stdout.splitlines()),
        "imports_tensorflow": tf.stdout.strip().endswith("True"),
    }


def contact_sheet(corpus: list[dict], diag, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = 7
    rows = (len(corpus) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 2.4, rows * 1.9), dpi=80, squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, x, d in zip(axes.ravel(), corpus, diag, strict=False):
        ax.axis("on")
        h = x["data"]["history"]
        ax.plot(np.array(h["loss"], float), color="#2f6db5", lw=1)
        ax.plot(np.array(h["val_loss"], float), color="#e07b39", lw=1)
        ok = "" if d.verdict in (x.get("acceptable") or [x["label"]]) else " ✗"
        ax.set_title(f"{Path(x['path']).stem[:24]}\n{x['label']} / {d.verdict}{ok}", fontsize=6)
        ax.tick_params(labelsize=5)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _label_table(title: str, score: dict) -> list[str]:
    n = score["runs"]
    lines = [
        f"## {title}: primary verdict acceptable in {score['bare_acceptable']}/{n} runs bare "
        f"({score['bare_acceptable'] / n:.1%}), {score['metadata_acceptable']}/{n} with metadata; "
        f"same verdict family with and without metadata in {score['same_family']}/{n}",
        "",
        "| label | runs | acceptable, bare | acceptable, with metadata | verdicts given (bare) |",
        "| --- | --- | --- | --- | --- |",
    ]
    for label, row in sorted(score["per_label"].items()):
        lines.append(f"| {label} | {row['runs']} | {row['bare']} | {row['with_metadata']} | {row['verdicts_bare']} |")
    for miss in score["misses"]:
        lines.append(
            f"- miss: {miss['run']} labelled {miss['label']}: bare {miss['bare']}, "
            f"with metadata {miss['with_metadata']}"
        )
    return lines + [""]


def _live_lines(title: str, live: dict) -> list[str]:
    return [
        f"## Live use ({title})",
        "",
        f"- overfitting runs flagged: {live['flagged']}/{live['total']}; within 3 epochs of the minimum validation "
        f"loss: {live['within_3']}/{live['total']} (before it: {live['before_best']}, more than 3 after it: "
        f"{live['later_than_3']}); median delay {live['median_delay']} epochs",
        f"- epochs saved against EarlyStopping(patience=10): mean {live['mean_epochs_saved']}",
        f"- flags on good-fit, still-improving or underfitting runs: {len(live['false_flags'])}"
        + "".join(
            f"; {f['run']} ({f['label']}) at epoch {f['flagged']} of {f['epochs']}, best epoch {f['best_epoch']}"
            + (", restoring gives the best epoch" if f["restored_is_best"] else ", too early: misses the best")
            for f in live["false_flags"]
        ),
        f"- restoring the best weights at the flag gives the best epoch in {live['restored_best']}/{live['total']} "
        "runs",
        "",
    ]


def main() -> int:
    RESULTS.mkdir(exist_ok=True)
    og = load_overfitguard()
    og_diag = [diagnose(x["data"], lang="en") for x in og]
    corpus, heldout, heldout2 = load_corpus(), load_heldout(), load_heldout("heldout2")
    dev, held, held2 = score_corpus(corpus), score_corpus(heldout), score_corpus(heldout2)
    result = {
        "overfitguard": score_overfitting(og, og_diag),
        "corpus_overfitting": score_overfitting(corpus, dev["diagnoses_bare"]),
        "heldout_overfitting": score_overfitting(heldout, held["diagnoses_bare"]),
        "heldout2_overfitting": score_overfitting(heldout2, held2["diagnoses_bare"]),
        "development_corpus": {k: v for k, v in dev.items() if k != "diagnoses_bare"},
        "heldout_corpus": {k: v for k, v in held.items() if k != "diagnoses_bare"},
        "heldout2_corpus": {k: v for k, v in held2.items() if k != "diagnoses_bare"},
        "corpus_relabelled": sum(x["label"] != x["design"] for x in corpus),
        "live_development": live_use(corpus),
        "live_heldout": live_use(heldout),
        "live_heldout2": live_use(heldout2),
        "early_warning_overfitguard": early_warning_on_overfitguard(og),
        "kept_round_verdicts": kept_round_verdicts(),
        "speed": speed(),
    }
    (RESULTS / "diagnosis.json").write_text(json.dumps(result, indent=2) + "\n")
    contact_sheet(corpus, dev["diagnoses_bare"], RESULTS / "corpus_curves.png")
    contact_sheet(heldout, held["diagnoses_bare"], RESULTS / "heldout_curves.png")
    contact_sheet(heldout2, held2["diagnoses_bare"], RESULTS / "heldout2_curves.png")
    lines = [
        "# Diagnosis benchmark",
        "",
        f"Run: {time.strftime('%Y-%m-%d %H:%M')} on {os.cpu_count()} cores. The development corpus and OverfitGuard "
        "are sets the rules were developed on. The first held-out corpus was labelled before fitdoctor read it "
        "and scored once with frozen rules; its figures have been read since, so it is no longer unseen. The "
        "second held-out corpus (benchmarks/heldout2) was trained, then labelled by eye, after the rules were "
        "frozen, and is scored here for the first time: it is the figure that counts.",
        "",
        "## Overfitting F1 (whole history, yes/no, bare histories)",
        "",
        f"| rule | OverfitGuard (419) | development corpus ({len(corpus)}) | held-out corpus 1 ({len(heldout)}) "
        f"| held-out corpus 2 ({len(heldout2)}) |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name in result["overfitguard"]:
        keys = ("overfitguard", "corpus_overfitting", "heldout_overfitting", "heldout2_overfitting")
        cells = [result[k][name] for k in keys]
        lines.append(f"| {name} | " + " | ".join(f"{c['f1']:.3f} (fp {c['fp']}, fn {c['fn']})" for c in cells) + " |")
    lines += [""]
    lines += _label_table("Development corpus", dev)
    lines += _label_table("Held-out corpus 1", held)
    lines += _label_table("Held-out corpus 2", held2)
    lines += _live_lines("FitDoctor callback replayed, development corpus", result["live_development"])
    lines += _live_lines("FitDoctor callback replayed, held-out corpus 1", result["live_heldout"])
    lines += _live_lines("FitDoctor callback replayed, held-out corpus 2", result["live_heldout2"])
    ew = result["early_warning_overfitguard"]
    kept = result["kept_round_verdicts"]
    lines += [
        "## Early warning and treated models",
        "",
        "- the early-warning rule alone (it speaks within 6 epochs of the best one) on OverfitGuard prefixes: fires on "
        f"{ew['overfit']['flagged']}/{ew['overfit']['runs']} overfit histories and "
        f"{ew['non_overfit']['flagged']}/{ew['non_overfit']['runs']} non-overfit ones",
        "- verdicts of the kept round of `fitdoctor fix` over the treatment benchmark's runs "
        f"(benchmarks/results/treatment.json): {kept}",
        "",
        "## Speed",
        "",
        f"- {result['speed']['histories']} histories x 1,000 epochs in one `fitdoctor diagnose --json` "
        f"call: {result['speed']['seconds']} s (exit {result['speed']['exit_code']}); imports TensorFlow: "
        f"{result['speed']['imports_tensorflow']}",
        "",
    ]
    (RESULTS / "diagnosis.md").write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
