"""`fitdoctor lr-find` against a grid search, on the bundled digits with a small CNN and Adam.

The range test's suggestion (valley) should lie within 3x of the best rate of the grid
{1e-4, 3e-4, 1e-3, 3e-3, 1e-2}, each trained for 5 epochs (best validation accuracy over its
epochs; ties go to the lower validation loss). Three seeds; the range test takes ~100 batches,
the grid 25 epochs.

    python benchmarks/lrfind_bench.py          # writes benchmarks/results/lrfind.json
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
GRID = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2)
SEEDS = (1, 2, 3)
SPEC = """\
data: {{image_size: [28, 28], color_mode: grayscale, batch_size: 64}}
model:
  - Conv2D: {{filters: 16, kernel_size: 3, activation: relu}}
  - MaxPooling2D: {{pool_size: 2}}
  - Flatten
  - Dense: {{units: 64, activation: relu}}
  - Dense: {{units: auto, activation: softmax}}
compile: {{optimizer: {{Adam: {{learning_rate: {lr}}}}}, loss: SparseCategoricalCrossentropy, metrics: [accuracy]}}
fit: {{epochs: 5}}
"""


def main() -> int:
    from fitdoctor.data.demo_set import write_demo_set
    from fitdoctor.data.split import split_folder
    from fitdoctor.tfimport import import_quietly
    from fitdoctor.training.lr_find import lr_find
    from fitdoctor.training.run import train

    import_quietly()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        write_demo_set(tmp / "digits")
        split_folder(tmp / "digits", tmp / "split", ratio=(0.8, 0.1, 0.1), seed=1)
        for seed in SEEDS:
            start = time.perf_counter()
            found = lr_find(SPEC.format(lr=1e-3), tmp / "split", tmp / f"lr{seed}", seed=seed)
            find_seconds = time.perf_counter() - start
            grid = {}
            start = time.perf_counter()
            for lr in GRID:
                result = train(
                    SPEC.format(lr=lr),
                    tmp / "split",
                    tmp / f"grid{seed}_{lr}",
                    seed=seed,
                    echo=None,
                    evaluate_test=False,
                )
                history = result.history
                best = max(
                    range(len(history["val_accuracy"])),
                    key=lambda i: (history["val_accuracy"][i], -history["val_loss"][i]),
                )
                grid[lr] = {"val_accuracy": history["val_accuracy"][best], "val_loss": history["val_loss"][best]}
            grid_seconds = time.perf_counter() - start
            best_lr = max(grid, key=lambda lr: (grid[lr]["val_accuracy"], -grid[lr]["val_loss"]))
            ratio = found.suggestion / best_lr
            rows.append(
                {
                    "seed": seed,
                    "suggestion": found.suggestion,
                    "suggestions": found.suggestions,
                    "grid": {f"{lr:g}": v for lr, v in grid.items()},
                    "grid_best": best_lr,
                    "ratio": round(ratio, 3),
                    "within_3x": 1 / 3 <= ratio <= 3,
                    "lr_find_seconds": round(find_seconds, 1),
                    "grid_seconds": round(grid_seconds, 1),
                }
            )
            print(json.dumps(rows[-1]), flush=True)
    out = {
        "runs": rows,
        "within_3x": sum(r["within_3x"] for r in rows),
        "seeds": len(rows),
        "when": time.strftime("%Y-%m-%d %H:%M"),
        "cores": os.cpu_count(),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "lrfind.json").write_text(json.dumps(out, indent=2) + "\n")
    print(f"suggestion within 3x of the grid's best in {out['within_3x']}/{out['seeds']} seeds")
    return 0 if out["within_3x"] == out["seeds"] else 1


if __name__ == "__main__":
    sys.exit(main())
