"""Test-split metrics: per-class precision, recall, F1, the macro averages and the confusion matrix."""

import numpy as np

from fitdoctor.training.evaluate import classification_metrics


def test_metrics_by_hand():
    m = classification_metrics(np.array([0, 0, 0, 1, 1, 2]), np.array([0, 0, 1, 1, 1, 0]), ["a", "b", "c"])
    assert m["confusion_matrix"] == [[2, 1, 0], [0, 2, 0], [1, 0, 0]]
    third = round(2 / 3, 4)  # stored rounded to 4 digits
    assert m["per_class"]["a"]["precision"] == third and m["per_class"]["a"]["recall"] == third
    assert m["per_class"]["b"]["precision"] == third and m["per_class"]["b"]["recall"] == 1.0
    assert m["per_class"]["c"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert abs(m["macro_recall"] - (2 / 3 + 1 + 0) / 3) < 1e-4
    assert abs(m["accuracy"] - 4 / 6) < 1e-4
