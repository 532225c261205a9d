"""How soon can a live overfitting warning speak without speaking too soon? A sweep, on all three corpora.

The diagnosis benchmark scores the live warning as shipped: within 3 epochs of the run's lowest
validation loss, neither before it nor later. This script asks whether any setting of the same
rules, or of the classic stopping rule, does better, so that the figure can be read against what
is possible on these curves:

- fitdoctor's rules with the evidence they wait for after the best epoch set to `d` epochs (the
  full rule's epochs after the best, the early form's epochs held, the stalled form's epochs
  without a new best, d + 1), and, for a warning at most 6 epochs after the best, the median of
  the epochs since the best also required to stand `k` times above the validation curve's own
  residual noise near its best (k = 0: as shipped);
- Keras EarlyStopping with patience p (it "warns" when it would stop), p = 1 to 5.

A warning before the best epoch is early (a later, lower validation loss came); after best + 3
it is late. The runs are the overfitting-labelled runs of the development corpus and the two
held-out corpora; false flags are flags on good-fit, still-improving and underfitting runs.

    python benchmarks/live_timing_sweep.py   # writes benchmarks/results/live_timing_sweep.{json,md}
"""

from __future__ import annotations

import json
import os
import sys
import time
from multiprocessing import Pool
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import diagnosis_bench  # noqa: E402

from fitdoctor.diagnosis import rules  # noqa: E402

JUDGED = ("overfitting", "good_fit", "still_improving", "underfitting")


def corpora() -> dict[str, list[dict]]:
    return {
        "development": diagnosis_bench.load_corpus(),
        "held-out 1": diagnosis_bench.load_heldout(),
        "held-out 2": diagnosis_bench.load_heldout("heldout2"),
    }


SHIPPED_FULL, SHIPPED_EARLY = rules.overfitting, rules.early_overfitting


def _above_noise(h, found, k: float):
    """`found`, unless it is a warning about a start (at most `EARLY_WINDOW` epochs after the best)
    whose rise does not stand `k` times above the validation curve's residual noise near its best."""
    if found is None or k == 0 or found.evidence["epochs_since_best"] > rules.EARLY_WINDOW:
        return found
    _, val, _ = rules.monitor(h)
    best = int(np.argmin(val))
    noise = rules.residual_noise(val[max(0, best - 5) :])
    return found if float(np.median(val[best + 1 :])) - val[best] > k * noise else None


def _set_rules(d: int, k: float) -> None:
    """The shipped rules with `d` epochs of evidence after the best and a noise factor `k` on the rise."""
    rules.MIN_EPOCHS_AFTER_BEST, rules.EARLY_HELD, rules.STALL_EPOCHS = d, d, d + 1
    rules.overfitting = lambda h: _above_noise(h, SHIPPED_FULL(h), k)
    rules.early_overfitting = lambda h: _above_noise(h, SHIPPED_EARLY(h), k)


def score(setting: tuple) -> tuple[tuple, dict]:
    kind, *params = setting
    if kind == "fitdoctor":
        _set_rules(*params)
    out = {}
    for name, items in corpora().items():
        counts = {"within_3": 0, "early": 0, "late": 0, "runs": 0, "false_flags": 0}
        for x in items:
            if x["label"] not in JUDGED:
                continue
            if kind == "fitdoctor":
                flag = diagnosis_bench.replay_flag(x["data"]["history"], x["data"]["num_classes"])
            else:  # the epoch at which EarlyStopping(patience) would stop
                flag = diagnosis_bench._es_stop_epoch(np.array(x["data"]["history"]["val_loss"], float), *params)
            if x["label"] != "overfitting":
                counts["false_flags"] += flag is not None
                continue
            counts["runs"] += 1
            best = int(np.argmin(np.array(x["data"]["history"]["val_loss"], float))) + 1
            if flag is not None and flag < best:
                counts["early"] += 1
            elif flag is not None and flag - best <= 3:
                counts["within_3"] += 1
            else:
                counts["late"] += 1
        out[name] = counts
    return setting, out


def main() -> int:
    settings = [("fitdoctor", d, k) for d in (2, 3, 4) for k in (0, 1, 2)] + [("patience", p) for p in range(1, 6)]
    with Pool(min(2, os.cpu_count() or 1)) as pool:
        rows = pool.map(score, settings)
    results = [{"setting": list(s), "corpora": out} for s, out in rows]
    (HERE / "results" / "live_timing_sweep.json").write_text(json.dumps(results, indent=1) + "\n")
    names = list(results[0]["corpora"])
    lines = [
        "# Live warning timing: a sweep of the rules' settings",
        "",
        f"Run: {time.strftime('%Y-%m-%d %H:%M')}. Cells: warnings within 3 epochs of the lowest validation loss / "
        "overfitting runs (before the best epoch, more than 3 after it or never; flags on good-fit, "
        "still-improving and underfitting runs). fitdoctor d=2, k=0 is the shipped setting.",
        "",
        "| rule | " + " | ".join(names) + " |",
        "| --- | " + " | ".join("---" for _ in names) + " |",
    ]
    for row in results:
        s = row["setting"]
        label = f"fitdoctor d={s[1]}, k={s[2]}" if s[0] == "fitdoctor" else f"EarlyStopping(patience={s[1]})"
        cells = [
            f"{c['within_3']}/{c['runs']} (early {c['early']}, late {c['late']}; false {c['false_flags']})"
            for c in row["corpora"].values()
        ]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    (HERE / "results" / "live_timing_sweep.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
