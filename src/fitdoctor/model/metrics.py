"""Precision and Recall that work for many classes and integer labels.

Keras's `Precision`/`Recall` expect binary or one-hot targets and thresholded
probabilities. For a softmax classifier these wrappers one-hot the labels (when they are
integers) and the top-1 prediction, then let Keras count: the result is the micro
average. Macro and per-class figures are computed from the confusion matrix at the end.
"""

from __future__ import annotations

import keras


def _prepare(y_true, y_pred, num_classes: int, sparse: bool):
    ops = keras.ops
    if num_classes <= 1:  # one sigmoid unit: keep Keras's binary behaviour
        return y_true, y_pred
    if sparse:
        y_true = ops.one_hot(ops.cast(ops.reshape(y_true, (-1,)), "int32"), num_classes)
    y_pred = ops.one_hot(ops.argmax(y_pred, axis=-1), num_classes)
    return y_true, y_pred


@keras.saving.register_keras_serializable(package="fitdoctor")
class MulticlassPrecision(keras.metrics.Precision):
    """Top-1 precision (micro average) for softmax outputs, with integer or one-hot labels.

    Args:
        num_classes: Output units.
        sparse: True when labels are integers.
        name: Metric name, default "precision".
    """

    def __init__(self, num_classes: int = 2, sparse: bool = True, name: str = "precision", **kwargs):
        super().__init__(name=name, **kwargs)
        self.num_classes, self.sparse = num_classes, sparse

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = _prepare(y_true, y_pred, self.num_classes, self.sparse)
        return super().update_state(y_true, y_pred, sample_weight)

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes, "sparse": self.sparse}


@keras.saving.register_keras_serializable(package="fitdoctor")
class MulticlassRecall(keras.metrics.Recall):
    """Top-1 recall (micro average) for softmax outputs, with integer or one-hot labels."""

    def __init__(self, num_classes: int = 2, sparse: bool = True, name: str = "recall", **kwargs):
        super().__init__(name=name, **kwargs)
        self.num_classes, self.sparse = num_classes, sparse

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = _prepare(y_true, y_pred, self.num_classes, self.sparse)
        return super().update_state(y_true, y_pred, sample_weight)

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes, "sparse": self.sparse}
