"""`fitdoctor fix`: diagnose, apply the remedies the evidence calls for, retrain, repeat.

Round 0 trains the spec as given. Each later round applies remedies chosen from the
previous round's diagnosis, trains the new spec, and diagnoses again. A round that made
validation worse than the round it started from (by more than the validation set resolves)
is undone, even when its curves look healthy (training that collapsed to the level of
validation reads as a good fit): the next round starts again from the better spec and leaves out the change
blamed for the damage (augmentation first when training accuracy collapsed; with several
changes and no suspect, it tries the first one alone), and the round records which change
was blamed and why. When a finding is about the learning rate (diverged, unstable, underfitting)
and a round changes the rate, the new rate is measured by a range test on the new spec
(`fitdoctor.lr_find`, fastai's valley) instead of the rule of thumb. A remedy the epoch budget
would cut short is not applied. The loop stops at a good fit, after two rounds without a better
validation score, or when the rounds or the epoch budget run out. The best round is chosen
on validation only (round 0 included, so the kept model is never worse on validation than
the spec as given); the test split is read once, at the very end, for the chosen model and
round 0 ("before" and "after").

Example:
    >>> import fitdoctor
    >>> result = fitdoctor.fix("spec.yaml", "split/", "runs/fix")  # doctest: +SKIP
    >>> result.before["test"]["accuracy"], result.after["test"]["accuracy"]  # doctest: +SKIP
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass, field
from pathlib import Path

from fitdoctor.diagnosis.findings import Finding
from fitdoctor.errors import UserError
from fitdoctor.fsio import LOCK_NAME, copy_file_atomic, exclusive, write_text
from fitdoctor.i18n import _, resolve_lang, t
from fitdoctor.model.spec import Spec, load_spec
from fitdoctor.rundir import BEST, FINAL_MODEL, FINAL_SPEC, SPEC, RunDir
from fitdoctor.treatment.change import Change, render
from fitdoctor.treatment.registry import choose
from fitdoctor.treatment.summary import summary_text
from fitdoctor.validation import RULES, validate_params

TREATED = ("overfitting", "underfitting", "still_improving", "unstable", "diverged", "insufficient_data")
# Why the loop stopped: the key stored in treatment.json; `fix.stop.<key>` says it in each language.
STOP_REASONS = ("good_fit", "stale", "rounds", "budget", "budget_short", "no_remedy")


@dataclass
class Treatment:
    """The record of a fix run; `to_dict()` is `treatment.json`."""

    rounds: list[dict] = field(default_factory=list)
    chosen_round: int | None = None
    before: dict = field(default_factory=dict)
    after: dict = field(default_factory=dict)
    stop_reason: str = ""  # a key of STOP_REASONS
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


def _load(run: RunDir) -> Treatment:
    data = run.treatment()
    if data is None:
        return Treatment()
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
        raise UserError(
            _(
                "'{data_dir}' has no test/ folder: fix compares before/after on it. Split with three ratios.",
                data_dir=data_dir,
            )
        )
    model = keras.saving.load_model(model_path)
    return evaluate_split(model, data, "test", one_hot=one_hot)


@validate_params(RULES["fix"], where="fix")
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
    lr_finder=None,
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
        trainer, evaluate, lr_finder: Injected for tests; default real training, test evaluation and
            learning-rate range test (`fitdoctor.lr_find`).
    """
    from fitdoctor.training.run import train as default_train

    trainer = trainer or default_train
    lr_finder = lr_finder or _default_lr_finder
    evaluate = evaluate or _default_evaluate
    say = echo or (lambda _line: None)
    language = resolve_lang(lang)
    base = load_spec(spec)
    budget = budget_epochs or 4 * int(base.raw["fit"]["epochs"])
    run, data = RunDir(run_dir), Path(data)
    with exclusive(run.path, "fix"):  # one writer per run directory
        record = _open_record(run, resume, base, budget)
        record.run_dir, record.lang = str(run.path), language
        if record.after:
            say(_("'{path}' already holds a finished treatment; nothing to do.", language, path=run.path))
            return record
        loop = _Loop(record, run, budget, max_rounds, say, language)
        loop.measure_lr = lambda raw: lr_finder(raw, data, seed)
        loop.train_rounds(base, data, trainer, seed=seed, echo_rounds=echo is not None)
        return _finish(record, run, data, evaluate, language, say)


def _default_lr_finder(raw: dict, data: Path, seed) -> dict:
    """The range test's suggestions for a spec (`fitdoctor.lr_find`, nothing written)."""
    from fitdoctor.training.lr_find import lr_find

    return lr_find(Spec(raw), data, None, seed=seed).suggestions


def _open_record(run: RunDir, resume: bool, base: Spec, budget: int) -> Treatment:
    """The treatment so far (resume), or a new one.

    A spec corrected after round 0 failed before its first epoch (a layer argument Keras
    refused, say) is taken on resume: round 0 starts again with it.
    """
    if not (run.path.exists() and any(p.name != LOCK_NAME for p in run.path.iterdir())):
        return Treatment()
    if not resume:
        raise UserError(
            _(
                "Run directory '{path}' is not empty. Pass --resume to continue it (a corrected spec is taken when no "
                "epoch was trained yet), or a new --run folder.",
                path=run.path,
            )
        )
    record = _load(run)
    if len(record.rounds) == 1 and not record.rounds[0].get("finished") and run.round(0).state() is None:
        epochs = min(int(base.raw["fit"]["epochs"]), budget)
        record.rounds[0]["spec"] = {**base.raw, "fit": {**base.raw["fit"], "epochs": epochs}}
    return record


class _Loop:
    """The rounds of one treatment: which spec trains next, and when to stop.

    Each round's diagnosis is computed once (by the training run) and stored in the round as
    keys and numbers; the remedies for the next round are chosen once, from that record.
    """

    def __init__(self, record: Treatment, run: RunDir, budget: int, max_rounds: int, say, lang: str):
        self.record, self.run, self.budget, self.max_rounds, self.say = record, run, budget, max_rounds, say
        self.lang = lang
        self.best_score, self.stale = None, 0
        self.skipped: list[dict] = []  # remedies that fit the last case but could not be applied, and why
        self.measure_lr = None  # spec dict -> the range test's suggestions (set by `fix`)
        self.measured: dict | None = None  # what the range test found for the next round
        for r in record.rounds:
            if r.get("finished"):
                self._score(r)

    def _score(self, r: dict) -> None:
        score = _score(r["val"])
        if self.best_score is None or score > self.best_score:
            self.best_score, self.stale = score, 0
            self.record.chosen_round = r["round"]
        else:
            self.stale += 1

    def used(self) -> int:
        return sum(r.get("epochs", 0) for r in self.record.rounds)

    def next_round(self, base: dict) -> dict | None:
        """The round to train next (an interrupted one first), or None when the treatment stops."""
        rounds = self.record.rounds
        if rounds and not rounds[-1].get("finished"):
            return rounds[-1]  # an interrupted round: resume it
        k = len(rounds)
        current = {"round": k, "spec": base, "remedies": [], "spec_diff": "", "finished": False, "parent": None}
        if k:
            reason, applied, new_raw, start, undo = self._stop_or_remedies(rounds[-1])
            if reason:
                self.record.stop_reason = reason
                self._save()
                return None
            current.update(
                {
                    "spec": new_raw,
                    "remedies": [a.to_dict() for a in applied],
                    "spec_diff": _spec_diff(start["spec"], new_raw),
                    "parent": start["round"],
                    **({"undo": undo} if undo else {}),
                    **({"skipped": self.skipped} if self.skipped else {}),
                    **({"lr_find": self.measured} if self.measured else {}),
                }
            )
        current["spec"] = {**current["spec"], "fit": dict(current["spec"]["fit"])}
        tune = int((current["spec"]["fit"].get("fine_tune") or {}).get("epochs", 0))
        left = max(1, self.budget - self.used() - tune)  # a fine-tuning phase comes after fit.epochs
        current["spec"]["fit"]["epochs"] = min(int(current["spec"]["fit"]["epochs"]), left)
        rounds.append(current)
        self._save()
        if k:
            first = current["remedies"][0]
            changes = "; ".join(render(r["change"], self.lang) for r in current["remedies"])
            because = render(first["because"], self.lang)
            self.say(_("round {k}: {because} -> {changes}", self.lang, k=k, because=because, changes=changes))
        else:
            self.say(_("round 0: training the spec as given", self.lang))
        return current

    def _stop_or_remedies(self, prev: dict):
        """Why the loop stops after round `prev` (a STOP_REASONS key), or what the next round applies:
        (reason, applied remedies, new spec, the round it starts from, the undo record or None)."""
        start, undo, exclude, limit, because = prev, None, self.blocked(), None, None
        parent = self.record.rounds[prev["parent"]] if prev.get("parent") is not None else None
        if parent is not None and worse(prev, parent):  # healthy curves too: a collapse can look like a good fit
            start = parent  # undo the round: start again from the better spec
            blamed, blocked, because = blame(prev, parent)
            undo = {"round": prev["round"], "blamed": blamed, "blocked": blocked, "because": because.to_dict()}
            exclude = exclude | set(blamed)
            if not blocked:  # several changes and no suspect: the first one alone
                limit = 1
        elif prev["verdict"] not in TREATED:
            return "good_fit", [], None, None, None
        if self.stale >= 2:
            return "stale", [], None, None, None
        if prev["round"] >= self.max_rounds:
            return "rounds", [], None, None, None
        if self.budget - self.used() < 3:
            return "budget", [], None, None, None
        finding = Finding.from_record(start["findings"][0])
        if finding.kind not in TREATED:
            return "no_remedy", [], None, None, None
        too_long: list[str] = []
        self.skipped, self.measured = [], None
        new_raw, applied = choose(
            start["spec"],
            finding,
            max_remedies=limit,
            exclude=exclude,
            because=because,
            epochs_left=self.budget - self.used(),
            too_long=too_long,
            facts=self.facts(start),
            skipped=self.skipped,
        )
        for skip in self.skipped:
            self.say(_("  not applied: {reason}", self.lang, reason=render(skip["reason"], self.lang)))
        if not applied:
            return "budget_short" if too_long else "no_remedy", [], None, None, None
        if finding.kind in MEASURED_LR:
            self._rate_from_range_test(start["spec"], new_raw, applied)
        return "", applied, new_raw, start, undo

    def _rate_from_range_test(self, old_raw: dict, new_raw: dict, applied: list) -> None:
        """Replace a learning-rate remedy's guess by the range test's rate on the new spec (fastai's valley),
        when the measurement goes the remedy's way; the round records what the test suggested."""
        from fitdoctor.model.reading import learning_rate
        from fitdoctor.treatment.spec_edit import set_optimizer_arg

        moves = [a for a in applied if a.id in ("lower_lr", "higher_lr")]
        if not moves or self.measure_lr is None:
            return
        old, guess = learning_rate(old_raw), learning_rate(new_raw)
        try:
            found = self.measure_lr(new_raw)
        except UserError as exc:  # too few finite losses, a schedule: the remedy's own guess stays
            self.measured = {"error": str(exc)}
            return
        rate = float(f"{found['valley']:.3g}")
        agrees = rate < old if moves[0].id == "lower_lr" else rate > old
        self.measured = {**found, "used": agrees}
        if agrees:
            set_optimizer_arg(new_raw, "learning_rate", rate)
            moves[0].change = Change("change.lr_range_test", old=f"{old:g}", new=f"{rate:g}", guess=f"{guess:g}")

    def facts(self, r: dict) -> dict:
        """What round `r`'s run knows of the data, for remedies that depend on it (images per class)."""
        counts = (self.run.round(r["round"]).info() or {}).get("counts", {}).get("train")
        return {"train_per_class": min(counts.values())} if counts else {}

    def blocked(self) -> set[str]:
        """Remedies blamed for a round that made things worse: never applied again in this treatment."""
        return {rid for r in self.record.rounds if r.get("undo", {}).get("blocked") for rid in r["undo"]["blamed"]}

    def train_rounds(self, base: Spec, data: Path, trainer, *, seed, echo_rounds: bool) -> None:
        """Train round after round (an interrupted one first) until `next_round` says stop.

        Errors name the spec file: round 0 with its lines, later rounds as "SPEC, round k".
        """
        current = self.next_round(base.raw)
        while current is not None:
            k = current["round"]
            round_dir = self.run.round(k).path
            if k == 0:  # the spec as given (its epochs capped by the budget): its file and lines
                spec = Spec(current["spec"], base.source, base.lines)
            else:
                spec = Spec(current["spec"], _("{source}, round {k}", source=base.source, k=k))
            result = trainer(
                spec,
                data,
                round_dir,
                seed=seed,
                resume=round_dir.exists(),
                evaluate_test=False,
                echo=(lambda line: self.say(f"  {line}")) if echo_rounds else None,
            )
            self.finish_round(current, result)
            current = self.next_round(base.raw)

    def finish_round(self, current: dict, result) -> None:
        d = result.diagnosis
        val = result.metrics["val"]
        train_accuracy = (result.history.get("accuracy") or [None])[-1]
        current.update(
            {
                "finished": True,
                "verdict": d.verdict,
                "findings": [f.to_record() for f in d.findings],
                "epochs": result.epochs,
                "val": {"loss": val.get("loss"), "accuracy": val.get("accuracy"), "samples": val.get("samples")},
                "train_accuracy": train_accuracy,
            }
        )
        self._score(current)
        self._save()
        self.say(
            _(
                "round {k}: {verdict} - val accuracy {accuracy:.4f} ({used}/{budget} epochs used)",
                self.lang,
                k=current["round"],
                verdict=t(f"verdict.{d.verdict}", self.lang),
                accuracy=current["val"]["accuracy"],
                used=self.used(),
                budget=self.budget,
            )
        )

    def _save(self) -> None:
        self.run.write_treatment(self.record.to_dict())


# Findings about the learning rate: their next rate is measured by a range test, not guessed.
MEASURED_LR = ("diverged", "unstable", "underfitting")
COLLAPSE = 0.2  # training accuracy this much lower than in the round before: the change broke learning


def resolution(val: dict) -> float:
    """The smallest difference of validation accuracy the validation set resolves (two standard errors of a
    difference of two accuracies near `p` on `n` images), or 0.01 when the size is unknown.

    Example:
        >>> round(resolution({"accuracy": 0.9, "samples": 500}), 4)
        0.0379
    """
    p, n = val.get("accuracy"), val.get("samples")
    if p is None or not n:
        return 0.01
    return 2 * (2 * p * (1 - p) / n) ** 0.5


def worse(r: dict, parent: dict) -> bool:
    """Whether round `r` is worse on validation than the round it started from, beyond what the set resolves."""
    a, b = r["val"].get("accuracy"), parent["val"].get("accuracy")
    if a is None or b is None:
        return (r["val"].get("loss") or float("inf")) > 1.5 * (parent["val"].get("loss") or float("inf"))
    return a < b - max(0.01, resolution(parent["val"]))


def blame(r: dict, parent: dict) -> tuple[list[str], bool, Change]:
    """Which of round `r`'s changes made it worse, whether that is sure enough to never apply it again, and why.

    Training accuracy that collapsed right after augmentation was added blames augmentation (it can
    change labels: flips or turns on classes that depend on orientation). A round with one change
    blames it. Several changes and no suspect: the others are set aside and the first is tried alone.
    """
    ids = [a["id"] for a in r["remedies"]]
    before, after = parent.get("train_accuracy"), r.get("train_accuracy")
    values = {
        "round": r["round"],
        "parent": parent["round"],
        "val_before": f"{parent['val']['accuracy']:.3f}" if parent["val"].get("accuracy") is not None else "-",
        "val_after": f"{r['val']['accuracy']:.3f}" if r["val"].get("accuracy") is not None else "-",
    }
    collapsed = before is not None and after is not None and after < before - COLLAPSE
    if collapsed and "augmentation" in ids:
        reason = Change(
            "blame.augmentation_collapse", train_before=f"{before:.3f}", train_after=f"{after:.3f}", **values
        )
        return ["augmentation"], True, reason
    if len(ids) == 1:
        return ids, True, Change("blame.only_change", change=Change(f"remedy_name.{ids[0]}"), **values)
    rest = ids[1:]
    return rest, False, Change("blame.one_at_a_time", change=Change(f"remedy_name.{ids[0]}"), **values)


def _finish(record: Treatment, run: RunDir, data: Path, evaluate, lang: str, say) -> Treatment:
    chosen = record.chosen_round or 0
    first, kept = run.round(0), run.round(chosen)
    spec0, spec_c = load_spec(first / SPEC), load_spec(kept / SPEC)
    record.before = {"round": 0, "test": evaluate(first / BEST, data, spec0, first.info()["one_hot"])}
    record.after = {"round": chosen, "test": evaluate(kept / BEST, data, spec_c, kept.info()["one_hot"])}
    copy_file_atomic(kept / BEST, run / FINAL_MODEL)
    write_text(run / FINAL_SPEC, spec_c.to_yaml())
    run.write_treatment(record.to_dict())
    for code in ("en", "pt_BR"):
        write_text(run.summary_path(code), summary_text(record.to_dict(), code))
    say(summary_text(record.to_dict(), lang))
    return record
