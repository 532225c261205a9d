"""Test-split metrics: loss, accuracy, macro and per-class precision / recall / F1, confusion matrix."""

from __future__ import annotations

import numpy as np


def classification_metrics(y_true: np.ndarray, y_pred: np.ndarray, class_names: list[str]) -> dict:
    """Per-class and macro precision, recall and F1 from integer labels and predictions.

    Example:
        >>> m = classification_metrics(np.array([0, 0, 1, 1]), np.array([0, 1, 1, 1]), ["a", "b"])
        >>> m["accuracy"], m["per_class"]["b"]["precision"]
        (0.75, 0.6667)
    """
    k = len(class_names)
    cm = np.zeros((k, k), dtype=int)
    np.add.at(cm, (y_true.astype(int), y_pred.astype(int)), 1)
    tp = np.diag(cm).astype(float)
    pred_pos, real_pos = cm.sum(axis=0), cm.sum(axis=1)
    precision = np.divide(tp, pred_pos, out=np.zeros(k), where=pred_pos > 0)
    recall = np.divide(tp, real_pos, out=np.zeros(k), where=real_pos > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros(k), where=denom > 0)
    per_class = {
        name: {
            "precision": round(float(precision[i]), 4),
            "recall": round(float(recall[i]), 4),
            "f1": round(float(f1[i]), 4),
            "support": int(real_pos[i]),
        }
        for i, name in enumerate(class_names)
    }
    return {
        "accuracy": round(float(tp.sum() / max(cm.sum(), 1)), 4),
        "macro_precision": round(float(precision.mean()), 4),
        "macro_recall": round(float(recall.mean()), 4),
        "macro_f1": round(float(f1.mean()), 4),
        "per_class": per_class,
        "confusion_matrix": cm.tolist(),
        "class_names": list(class_names),
    }


def evaluate_split(model, data, split: str, *, one_hot: bool, batch_size: int = 256, worst: int = 16) -> dict:
    """Evaluate a model on one split: metrics plus the highest-loss images (for the report)."""
    y = data.labels[split]
    if data.streaming:
        probs = model.predict(data.dataset(split, batch_size=batch_size), verbose=0)
    else:
        probs = model.predict(data.arrays[split][0].astype("float32") / 255.0, batch_size=batch_size, verbose=0)
    probs = np.asarray(probs, dtype=float)
    if probs.shape[-1] == 1:
        p1 = probs[:, 0]
        probs = np.stack([1 - p1, p1], axis=1)
    pred = probs.argmax(axis=1)
    eps = 1e-7
    per_sample = -np.log(np.clip(probs[np.arange(len(y)), y], eps, 1.0))
    out = classification_metrics(y, pred, data.class_names)
    out["loss"] = round(float(per_sample.mean()), 6) if len(y) else None
    out["split"] = split
    out["samples"] = int(len(y))
    order = np.argsort(-per_sample)[:worst]
    paths = getattr(data, "paths", {}).get(split) or [""] * len(y)
    out["worst"] = [
        {
            "index": int(i),
            "path": paths[int(i)],
            "true": data.class_names[int(y[i])],
            "predicted": data.class_names[int(pred[i])],
            "loss": round(float(per_sample[i]), 4),
        }
        for i in order
        if pred[i] != y[i]
    ]
    return out
