"""`fitdoctor fix` on sick specs, against a blind KerasTuner RandomSearch with the same epochs.

Bundled digits split 0.8/0.1/0.1. For each sick spec and seed: the fix loop's test accuracy
before (round 0) and after, the epochs it used and its wall time, the rounds that were undone and
the change blamed, and the rates the range test gave learning-rate rounds; then (for the three
original digit specs) KerasTuner RandomSearch over the same knobs (dropout, L2, learning rate,
units, augmentation on/off), given the same total number of epochs, its best model evaluated on
the same test split. The figures of the previous run (`results/treatment_session5.json`) stand
beside each row: "no worse than before, in no more epochs".

Two sick specs were added for the treatment's own checks (no KerasTuner peer):
- `flip_collapse`: the photo set's arrows (`fitdoctor data photo-set`: up, down, left, right) with
  a spec that wrongly declares them flip-invariant, so the augmentation remedy adds flips: training
  collapses, and the next round must undo it and blame augmentation;
- `over_regularised`: an MLP held back by Dropout 0.7 and L2 0.05 at once (round 0 underfits, form
  "regularised"): the step that weakens both at once.

    pip install -e '.[bench]' && python benchmarks/treatment_bench.py [--only NAME] [SEEDS...]
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
BASE = "data: {image_size: [28, 28], color_mode: grayscale, batch_size: 64}\n"
SICK = {
    "overfit_mlp": BASE
    + """model:
  - Flatten
  - Dense: {units: 1024, activation: relu}
  - Dense: {units: 1024, activation: relu}
  - Dense: {units: auto, activation: softmax}
compile: {optimizer: {Adam: {learning_rate: 0.001}}, loss: SparseCategoricalCrossentropy, metrics: [accuracy]}
fit: {epochs: 40}
""",
    "underfit_bottleneck": BASE
    + """model:
  - Flatten
  - Dense: {units: 4, activation: relu}
  - Dense: {units: auto, activation: softmax}
compile: {optimizer: {SGD: {learning_rate: 0.0001}}, loss: SparseCategoricalCrossentropy, metrics: [accuracy]}
fit: {epochs: 10}
""",
    "unstable_sgd": BASE
    + """model:
  - Flatten
  - Dense: {units: 256, activation: relu}
  - Dense: {units: auto, activation: softmax}
compile:
  optimizer: {SGD: {learning_rate: 1.0, momentum: 0.9}}
  loss: SparseCategoricalCrossentropy
  metrics: [accuracy]
fit: {epochs: 20}
""",
    "over_regularised": BASE
    + """model:
  - Flatten
  - Dense: {units: 256, activation: relu, kernel_regularizer: {L2: {l2: 0.05}}}
  - Dropout: {rate: 0.7}
  - Dense: {units: 128, activation: relu, kernel_regularizer: {L2: {l2: 0.05}}}
  - Dropout: {rate: 0.7}
  - Dense: {units: auto, activation: softmax}
compile: {optimizer: {Adam: {learning_rate: 0.001}}, loss: SparseCategoricalCrossentropy, metrics: [accuracy]}
fit: {epochs: 20}
""",
    "flip_collapse": """data: {image_size: [32, 32], color_mode: rgb, batch_size: 32,
       invariances: [horizontal_flip, vertical_flip]}   # wrong: a flipped arrow is another class
model:
  - Conv2D: {filters: 16, kernel_size: 3, activation: relu}
  - MaxPooling2D: {pool_size: 2}
  - Conv2D: {filters: 32, kernel_size: 3, activation: relu}
  - MaxPooling2D: {pool_size: 2}
  - Flatten
  - Dense: {units: 256, activation: relu}
  - Dense: {units: auto, activation: softmax}
compile: {optimizer: {Adam: {learning_rate: 0.001}}, loss: SparseCategoricalCrossentropy, metrics: [accuracy]}
fit: {epochs: 40}
""",
}
TARGET = {  # what each sick spec must reach, and the same as a test on one round's test accuracy
    "overfit_mlp": ("after - before >= 0.02", lambda before, test: test - before >= 0.02),
    "underfit_bottleneck": ("after >= 0.85", lambda before, test: test >= 0.85),
    "unstable_sgd": ("after >= 0.85", lambda before, test: test >= 0.85),
    "flip_collapse": ("the collapsed round is undone and augmentation blamed", None),
}


def epochs_to_target(name: str, record, run_dir: Path, split: Path) -> tuple[list[float], int | None]:
    """Every round's test accuracy, and the epochs used up to the first round that meets the target."""
    from fitdoctor.model.spec import load_spec
    from fitdoctor.rundir import BEST, SPEC, RunDir
    from fitdoctor.treatment.loop import _default_evaluate

    run, tests, used, reached = RunDir(run_dir), [], 0, None
    for k, r in enumerate(record.rounds):
        folder = run.round(k)
        test = _default_evaluate(folder / BEST, split, load_spec(folder / SPEC), folder.info()["one_hot"])
        tests.append(round(float(test["accuracy"]), 4))
        used += r["epochs"]
        meets = TARGET.get(name, ("", None))[1]
        if reached is None and meets is not None and meets(tests[0], tests[-1]):
            reached = used
    return tests, reached


PHOTO_SPECS = ("flip_collapse",)  # trained on the photo set, not the digits
TUNED = ("overfit_mlp", "underfit_bottleneck", "unstable_sgd")  # the specs with a KerasTuner peer


def tuner_run(name: str, data, epochs_total: int, epochs_per_trial: int, seed: int, workdir: Path) -> dict:
    import keras
    import keras_tuner as kt
    import numpy as np

    x, y = data.arrays["train"]
    xv, yv = data.arrays["val"]
    xt, yt = data.arrays["test"]
    x, xv, xt = (a.astype("float32") / 255.0 for a in (x, xv, xt))

    def build(hp):
        layers = [keras.Input((28, 28, 1))]
        if hp.Boolean("augmentation"):
            layers += [keras.layers.RandomRotation(0.05), keras.layers.RandomTranslation(0.1, 0.1)]
        layers.append(keras.layers.Flatten())
        l2 = hp.Choice("l2", [0.0, 1e-5, 1e-4, 1e-3])
        units = hp.Choice("units", [4, 64, 256, 1024])
        layers.append(
            keras.layers.Dense(units, activation="relu", kernel_regularizer=keras.regularizers.L2(l2) if l2 else None)
        )
        layers.append(keras.layers.Dropout(hp.Choice("dropout", [0.0, 0.2, 0.4, 0.5])))
        layers.append(keras.layers.Dense(10, activation="softmax"))
        model = keras.Sequential(layers)
        lr = hp.Choice("learning_rate", [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 1e-1, 1.0])
        opt = keras.optimizers.Adam(lr) if name == "overfit_mlp" else keras.optimizers.SGD(lr, momentum=0.9)
        model.compile(opt, "sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    trials = max(1, epochs_total // epochs_per_trial)
    start = time.perf_counter()
    tuner = kt.RandomSearch(
        build,
        objective="val_accuracy",
        max_trials=trials,
        seed=seed,
        directory=str(workdir),
        project_name=f"{name}_{seed}",
        overwrite=True,
    )
    tuner.search(x, y, validation_data=(xv, yv), epochs=epochs_per_trial, batch_size=64, verbose=0)
    best = tuner.get_best_models(1)[0]
    acc = float(np.mean(best.predict(xt, verbose=0).argmax(1) == yt))
    return {
        "trials": trials,
        "epochs": trials * epochs_per_trial,
        "test_accuracy": round(acc, 4),
        "seconds": round(time.perf_counter() - start, 1),
    }


def main() -> int:
    from fitdoctor.data.demo_set import write_demo_set
    from fitdoctor.data.loader import load_split
    from fitdoctor.data.photo_set import write_photo_set
    from fitdoctor.data.split import split_folder
    from fitdoctor.tfimport import import_quietly
    from fitdoctor.treatment.loop import fix

    import_quietly()
    args = sys.argv[1:]
    only = None
    if args[:1] == ["--only"]:
        only, args = args[1], args[2:]
    seeds = [int(s) for s in args] or [1, 2, 3]
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / "treatment.json"
    results = json.loads(path.read_text()) if path.exists() else {}
    before = json.loads((RESULTS / "treatment_session5.json").read_text())
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        write_demo_set(tmp / "digits")
        split_folder(tmp / "digits", tmp / "split", ratio=(0.8, 0.1, 0.1), seed=1)
        write_photo_set(tmp / "photos", per_class=150, megapixels=(0.02, 0.06), seed=0)
        split_folder(tmp / "photos", tmp / "photo_split", ratio=(0.7, 0.15, 0.15), seed=1)
        data = load_split(tmp / "split")
        for name, spec in SICK.items():
            if only and name != only:
                continue
            for seed in seeds:
                key = f"{name}/seed{seed}"
                start = time.perf_counter()
                from fitdoctor.treatment.change import render

                split = tmp / ("photo_split" if name in PHOTO_SPECS else "split")
                record = fix(spec, split, tmp / f"{name}_{seed}", seed=seed, echo=None)
                used = sum(r["epochs"] for r in record.rounds)
                round_tests, to_target = epochs_to_target(name, record, tmp / f"{name}_{seed}", split)
                row = {
                    "before": record.before["test"]["accuracy"],
                    "after": record.after["test"]["accuracy"],
                    "rounds": [r["verdict"] for r in record.rounds],
                    "chosen_round": record.chosen_round,
                    "remedies": [[render(x["change"], "en") for x in r["remedies"]] for r in record.rounds],
                    "undone": [
                        {
                            "round": r["undo"]["round"],
                            "blamed": r["undo"]["blamed"],
                            "why": render(r["undo"]["because"], "en"),
                        }
                        for r in record.rounds
                        if r.get("undo")
                    ],
                    "range_test": [
                        {"round": r["round"], **{k: v for k, v in r["lr_find"].items()}}
                        for r in record.rounds
                        if r.get("lr_find")
                    ],
                    "not_applied": [render(x["reason"], "en") for r in record.rounds for x in r.get("skipped", [])],
                    "epochs": used,
                    "round_epochs": [r["epochs"] for r in record.rounds],
                    "round_test_accuracy": round_tests,
                    "epochs_to_target": to_target,
                    "seconds": round(time.perf_counter() - start, 1),
                    "previous": before.get(key, {}) and {k: before[key][k] for k in ("before", "after", "epochs")},
                }
                results[key] = row
                path.write_text(json.dumps(results, indent=2) + "\n")
                if name not in TUNED:
                    print(key, json.dumps(row), flush=True)
                    continue
                per_trial = int(record.rounds[0]["spec"]["fit"]["epochs"])
                try:
                    row["kerastuner"] = tuner_run(name, data, used, min(per_trial, max(1, used)), seed, tmp / "kt")
                except Exception as exc:  # report it, keep the fix figures
                    row["kerastuner"] = {
                        "error": f"{type(exc).__name__}: {exc}"[:300],
                        "test_accuracy": float("nan"),
                        "seconds": None,
                    }
                path.write_text(json.dumps(results, indent=2) + "\n")
                print(key, json.dumps(row), flush=True)
    lines = [
        "# Treatment benchmark",
        "",
        "| sick spec | seed | before | after | epochs | epochs to reach the target | round test accuracies "
        "| previous run: before, after, epochs | time (s) | "
        "KerasTuner test acc (same epochs) | KerasTuner time (s) | rounds | undone (blamed) | range test |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for key, r in sorted(results.items()):
        name, seed = key.split("/")
        prev = r.get("previous") or {}
        prev = f"{prev['before']:.4f}, {prev['after']:.4f}, {prev['epochs']}" if prev else "-"
        tuner = r.get("kerastuner") or {}
        tuner_acc = f"{tuner['test_accuracy']:.4f}" if tuner else "-"
        undone = "; ".join(f"round {u['round']} ({', '.join(u['blamed'])})" for u in r.get("undone", [])) or "-"
        rates = (
            "; ".join(
                f"round {x['round']}: valley {x['valley']:.2g}{'' if x.get('used') else ' (not used)'}"
                for x in r.get("range_test", [])
                if "valley" in x
            )
            or "-"
        )
        lines.append(
            f"| {name} | {seed} | {r['before']:.4f} | {r['after']:.4f} | {r['epochs']} | "
            f"{r.get('epochs_to_target') or '-'} | {', '.join(f'{a:.3f}' for a in r.get('round_test_accuracy', []))} "
            f"| {prev} | {r['seconds']} | "
            f"{tuner_acc} | {tuner.get('seconds', '-')} | {' -> '.join(r['rounds'])} | {undone} | {rates} |"
        )
    lines += ["", "Targets: " + "; ".join(f"{k}: {text}" for k, (text, _) in TARGET.items()), ""]
    (RESULTS / "treatment.md").write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
