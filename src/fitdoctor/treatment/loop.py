"""`fitdoctor fix`: diagnose, apply the remedies the evidence calls for, retrain, repeat.

Round 0 trains the spec as given. Each later round applies remedies chosen from the
previous round's diagnosis, trains the new spec, and diagnoses again. The loop stops at a
good fit, after two rounds without a better validation score, or when the rounds or the
epoch budget run out. The best round is chosen on validation only; the test split is read
once, at the very end, for the chosen model and round 0 ("before" and "after").

Example:
    >>> import fitdoctor
    >>> result = fitdoctor.fix("spec.yaml", "split/", "runs/fix")  # doctest: +SKIP
    >>> result.before["test"]["accuracy"], result.after["test"]["accuracy"]  # doctest: +SKIP
"""

from __future__ import annotations

import difflib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from fitdoctor.diagnosis.engine import diagnose
from fitdoctor.diagnosis.messages import resolve_lang
from fitdoctor.errors import UserError, param_error
from fitdoctor.fsio import copy_file_atomic, write_json, write_text
from fitdoctor.model.spec import Spec, load_spec
from fitdoctor.treatment.registry import choose
from fitdoctor.treatment.summary import summary_text

TREATED = ("overfitting", "underfitting", "still_improving", "unstable", "diverged", "insufficient_data")


@dataclass
class Treatment:
    """The record of a fix run; `to_dict()` is `treatment.json`."""

    rounds: list[dict] = field(default_factory=list)
    chosen_round: int | None = None
    before: dict = field(default_factory=dict)
    after: dict = field(default_factory=dict)
    stop_reason: str = ""
    run_dir: str = ""
    lang: str | None = None

    def _repr_html_(self) -> str:
        """The notebook card: the treatment's story, its rounds and remedies, test accuracy before and after."""
        from fitdoctor.report.html import treatment_card

        return treatment_card(self.to_dict(), self.lang)

    def to_dict(self) -> dict:
        return {
            "rounds": self.rounds,
            "chosen_round": self.chosen_round,
            "before": self.before,
            "after": self.after,
            "stop_reason": self.stop_reason,
        }


def _score(val: dict) -> tuple[float, float]:
    """Validation score: accuracy first, then lower loss."""
    return (val.get("accuracy") or 0.0, -(val.get("loss") or float("inf")))


def _spec_diff(old: dict, new: dict) -> str:
    a = Spec(old).to_yaml().splitlines()
    b = Spec(new).to_yaml().splitlines()
    return "\n".join(difflib.unified_diff(a, b, "before.yaml", "after.yaml", lineterm="", n=1))


def _load(path: Path) -> Treatment:
    data = json.loads(path.read_text(encoding="utf-8"))
    return Treatment(
        rounds=data["rounds"],
        chosen_round=data.get("chosen_round"),
        before=data.get("before", {}),
        after=data.get("after", {}),
        stop_reason=data.get("stop_reason", ""),
    )


def _default_evaluate(model_path: Path, data_dir: Path, spec: Spec, one_hot: bool) -> dict:
    import keras

    from fitdoctor.data.loader import load_for_spec
    from fitdoctor.training.evaluate import evaluate_split

    data = load_for_spec(data_dir, spec)
    if "test" not in data.labels:
        raise UserError(f"'{data_dir}' has no test/ folder: fix compares before/after on it. Split with three ratios.")
    model = keras.saving.load_model(model_path)
    return evaluate_split(model, data, "test", one_hot=one_hot)


def fix(
    spec,
    data: str | os.PathLike,
    run_dir: str | os.PathLike,
    *,
    max_rounds: int = 4,
    budget_epochs: int | None = None,
    seed: int | None = None,
    lang: str | None = None,
    resume: bool = False,
    echo=print,
    trainer=None,
    evaluate=None,
) -> Treatment:
    """Treat a spec in a closed loop; return the treatment record (also in RUNDIR/treatment.json).

    Args:
        spec: YAML path, YAML text, dict or `Spec`.
        data: Split folder with train/, val/ and test/.
        run_dir: Where `rounds/NN/`, `treatment.json`, `final.keras`, `final-spec.yaml` go.
        max_rounds: Rounds after round 0, default 4.
        budget_epochs: Most epochs over all rounds (default: 4x the spec's epochs).
        seed: Seed for every round.
        lang: Language of the summary ("en" or "pt").
        resume: Continue an interrupted fix run.
        echo: Function for progress lines (None for silence).
        trainer, evaluate: Injected for tests; default real training and test evaluation.
    """
    from fitdoctor.training.run import train as default_train

    trainer = trainer or default_train
    evaluate = evaluate or _default_evaluate
    say = echo or (lambda _line: None)
    language = resolve_lang(lang)
    if max_rounds < 0:
        raise param_error("max_rounds", "fix", "a whole number >= 0", max_rounds)
    base = load_spec(spec)
    budget = budget_epochs or 4 * int(base.raw["fit"]["epochs"])
    run_dir, data = Path(run_dir), Path(data)
    record_path = run_dir / "treatment.json"
    if run_dir.exists() and any(run_dir.iterdir()):
        if not resume:
            raise UserError(
                f"Run directory '{run_dir}' is not empty. Pass --resume to continue it, or a new --run folder."
            )
        record = _load(record_path) if record_path.exists() else Treatment()
    else:
        record = Treatment()
    record.run_dir, record.lang = str(run_dir), language
    if record.after:
        say(f"'{run_dir}' already holds a finished treatment; nothing to do.")
        return record
    run_dir.mkdir(parents=True, exist_ok=True)
    specs = [r["spec"] for r in record.rounds] or [base.raw]
    stale, best_score = 0, None
    for r in record.rounds:
        if r.get("finished"):
            score = _score(r["val"])
            best_score, stale = (score, 0) if best_score is None or score > best_score else (best_score, stale + 1)
    while True:
        k = len([r for r in record.rounds if r.get("finished")])
        if k < len(record.rounds):  # an interrupted round: resume it
            current = record.rounds[k]
        else:
            current = {"round": k, "spec": specs[-1], "remedies": [], "spec_diff": "", "finished": False}
            if k:
                prev = record.rounds[k - 1]
                if "_finding" not in prev:
                    prev["_finding"] = diagnose(run_dir / "rounds" / f"{k - 1:02d}").primary
                finding = prev["_finding"]
                new_raw, applied = choose(specs[-1], finding)
                current.update(
                    {
                        "spec": new_raw,
                        "remedies": [a.to_dict() for a in applied],
                        "spec_diff": _spec_diff(specs[-1], new_raw),
                    }
                )
            used = sum(r.get("epochs", 0) for r in record.rounds)
            current["spec"]["fit"]["epochs"] = min(int(current["spec"]["fit"]["epochs"]), max(1, budget - used))
            record.rounds.append(current)
            specs.append(current["spec"])
            _save(record, record_path)
            if k:
                changes = "; ".join(r["change"] for r in current["remedies"])
                say(f"round {k}: {current['remedies'][0]['because']} -> {changes}")
            else:
                say("round 0: training the spec as given")
        round_dir = run_dir / "rounds" / f"{k:02d}"
        result = trainer(
            Spec(current["spec"]),
            data,
            round_dir,
            seed=seed,
            resume=round_dir.exists(),
            evaluate_test=False,
            echo=(lambda line: say(f"  {line}")) if echo else None,
        )
        d = diagnose(round_dir, lang=language)
        val = result.metrics.get("val", result.metrics)
        current.update(
            {
                "finished": True,
                "verdict": d.verdict,
                "findings": [f.to_dict() for f in d.findings],
                "epochs": result.epochs,
                "val": {"loss": val.get("loss"), "accuracy": val.get("accuracy")},
                "summary": d.primary.summary,
            }
        )
        current["_finding"] = d.primary
        score = _score(current["val"])
        if best_score is None or score > best_score:
            best_score, stale = score, 0
            record.chosen_round = k
        else:
            stale += 1
        used = sum(r.get("epochs", 0) for r in record.rounds)
        say(f"round {k}: {d.verdict} - val accuracy {current['val']['accuracy']:.4f} ({used}/{budget} epochs used)")
        reason = _stop_reason(d.verdict, stale, k, max_rounds, used, budget, current, d.primary)
        _save(record, record_path)
        if reason:
            record.stop_reason = reason
            break
    return _finish(record, record_path, run_dir, data, evaluate, language, say)


def _stop_reason(verdict, stale, k, max_rounds, used, budget, current, finding) -> str:
    if verdict not in TREATED:
        return "good fit"
    if stale >= 2:
        return "two rounds without a better validation score"
    if k >= max_rounds:
        return "rounds used up"
    if budget - used < 3:
        return "epoch budget used up"
    _, applied = choose(current["spec"], finding)
    if not applied:
        return f"no remedy left for {verdict}"
    return ""


def _save(record: Treatment, path: Path) -> None:
    doc = record.to_dict()
    doc["rounds"] = [{k: v for k, v in r.items() if not k.startswith("_")} for r in record.rounds]
    write_json(path, doc)


def _finish(record: Treatment, record_path: Path, run_dir: Path, data: Path, evaluate, lang: str, say) -> Treatment:
    chosen = record.chosen_round or 0
    info0 = json.loads((run_dir / "rounds" / "00" / "run.json").read_text(encoding="utf-8"))
    info_c = json.loads((run_dir / "rounds" / f"{chosen:02d}" / "run.json").read_text(encoding="utf-8"))
    best0 = run_dir / "rounds" / "00" / "best.keras"
    best_c = run_dir / "rounds" / f"{chosen:02d}" / "best.keras"
    spec0 = load_spec(run_dir / "rounds" / "00" / "spec.yaml")
    spec_c = load_spec(run_dir / "rounds" / f"{chosen:02d}" / "spec.yaml")
    record.before = {"round": 0, "test": evaluate(best0, data, spec0, info0["one_hot"])}
    record.after = {"round": chosen, "test": evaluate(best_c, data, spec_c, info_c["one_hot"])}
    copy_file_atomic(best_c, run_dir / "final.keras")
    write_text(run_dir / "final-spec.yaml", spec_c.to_yaml())
    _save(record, record_path)
    for code in ("en", "pt_BR"):
        write_text(run_dir / f"summary.{'pt' if code == 'pt_BR' else 'en'}.txt", summary_text(record.to_dict(), code))
    say(summary_text(record.to_dict(), lang))
    return record
