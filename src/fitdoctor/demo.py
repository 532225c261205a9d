"""`fitdoctor demo`: the whole story on the bundled digits, narrated, in a few minutes.

Write the digits as class folders -> inspect -> split 0.8/0.1/0.1 -> `fix` an
overfitting-prone spec -> report. A second run reuses finished work; `--fresh` starts over
(it removes only the folders the demo made, marked by `.fitdoctor-demo`).
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from fitdoctor.errors import UserError
from fitdoctor.i18n import N_, _, resolve_lang

DEMO_SPEC = """\
# An overfitting-prone spec: two wide Dense layers, no regularisation, many epochs.
data: {image_size: [28, 28], color_mode: grayscale, batch_size: 64}
model:
  - Flatten
  - Dense: {units: 512, activation: relu}
  - Dense: {units: 512, activation: relu}
  - Dense: {units: auto, activation: softmax}
compile:
  optimizer: {Adam: {learning_rate: 0.001}}
  loss: SparseCategoricalCrossentropy
  metrics: [accuracy, Precision, Recall]
fit: {epochs: 30}
"""
MARKER = ".fitdoctor-demo"
STEPS = (
    N_("Writing the 5,000 bundled MNIST digits as class folders"),
    N_("Inspecting the images"),
    N_("Splitting 80/10/10 (stratified, leakage-free)"),
    N_("Treating an overfitting-prone model (fitdoctor fix)"),
    N_("Writing the report"),
)


def run_demo(
    workdir: str | Path = "fitdoctor-demo",
    *,
    lang: str | None = None,
    fresh: bool = False,
    echo=print,
    max_rounds: int = 2,
    seed: int = 7,
) -> dict:
    """Run the demo; return {"before", "after", "rounds", "report", "seconds"}."""
    from fitdoctor.data.demo_set import ATTRIBUTION, write_demo_set
    from fitdoctor.data.inspect import inspect_folder, render
    from fitdoctor.data.split import split_folder
    from fitdoctor.fsio import write_text
    from fitdoctor.i18n import t
    from fitdoctor.report.html import build_report
    from fitdoctor.treatment.loop import fix

    language = resolve_lang(lang)
    start = time.perf_counter()
    work = Path(workdir)
    if work.exists() and any(work.iterdir()) and not (work / MARKER).exists():
        raise UserError(
            _("'{work}' is not empty and was not made by the demo. Pass --workdir with a new folder.", work=work)
        )
    if fresh and (work / MARKER).exists():
        for name in ("digits", "split", "fix", "spec.yaml"):
            target = work / name
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
    work.mkdir(parents=True, exist_ok=True)
    (work / MARKER).write_text("made by fitdoctor demo\n")

    def step(i: int) -> None:
        echo(f"[{i + 1}/5] {_(STEPS[i], language)} ({time.perf_counter() - start:.0f}s)")

    step(0)
    write_demo_set(work / "digits")
    echo(f"      {ATTRIBUTION.splitlines()[0]}")
    step(1)
    echo("      " + render(inspect_folder(work / "digits"), limit=3).replace("\n", "\n      "))
    step(2)
    plan = split_folder(work / "digits", work / "split", ratio=(0.8, 0.1, 0.1), seed=seed)
    echo("      " + ", ".join(f"{s}: {sum(c.values())}" for s, c in plan.counts().items()))
    step(3)
    spec_path = work / "spec.yaml"
    if not spec_path.exists():
        write_text(spec_path, DEMO_SPEC)
    resume = (work / "fix").exists()
    record = fix(
        spec_path,
        work / "split",
        work / "fix",
        max_rounds=max_rounds,
        seed=seed,
        lang=lang,
        resume=resume,
        echo=lambda line: echo("      " + line) if not line.startswith("  epoch") else None,
    )
    step(4)
    report = build_report(work / "fix", lang=lang)
    result = {
        "before": record.before["test"]["accuracy"],
        "after": record.after["test"]["accuracy"],
        "rounds": [t(f"verdict.{r['verdict']}", language) for r in record.rounds if r.get("finished")],
        "report": str(report),
        "seconds": time.perf_counter() - start,
    }
    echo(
        _(
            "Test accuracy before {before:.4f}, after {after:.4f}. Rounds: {rounds}. Report: {report} ({seconds:.0f}s)",
            language,
            before=result["before"],
            after=result["after"],
            rounds=" -> ".join(result["rounds"]),
            report=report,
            seconds=result["seconds"],
        )
    )
    return result
