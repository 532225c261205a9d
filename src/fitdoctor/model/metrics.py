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


class _TopOne:
    """Shared by the two metrics below: one-hot the labels (if integers) and the top-1 prediction."""

    def __init__(self, num_classes: int = 2, sparse: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.num_classes, self.sparse = num_classes, sparse

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = _prepare(y_true, y_pred, self.num_classes, self.sparse)
        return super().update_state(y_true, y_pred, sample_weight)

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes, "sparse": self.sparse}


@keras.saving.register_keras_serializable(package="fitdoctor")
class MulticlassPrecision(_TopOne, keras.metrics.Precision):
    """Top-1 precision (micro average) for softmax outputs, with integer or one-hot labels.

    Args:
        num_classes: Output units.
        sparse: True when labels are integers.
        name: Metric name, default "precision".
    """

    def __init__(self, num_classes: int = 2, sparse: bool = True, name: str = "precision", **kwargs):
        super().__init__(num_classes=num_classes, sparse=sparse, name=name, **kwargs)


@keras.saving.register_keras_serializable(package="fitdoctor")
class MulticlassRecall(_TopOne, keras.metrics.Recall):
    """Top-1 recall (micro average) for softmax outputs, with integer or one-hot labels."""

    def __init__(self, num_classes: int = 2, sparse: bool = True, name: str = "recall", **kwargs):
        super().__init__(num_classes=num_classes, sparse=sparse, name=name, **kwargs)


def _plain_metric(config):
    if isinstance(config, dict) and config.get("module") == __name__:
        base = {"MulticlassPrecision": "Precision", "MulticlassRecall": "Recall"}[config["class_name"]]
        inner = {k: v for k, v in config.get("config", {}).items() if k not in ("num_classes", "sparse")}
        return {"module": "keras.metrics", "class_name": base, "config": inner, "registered_name": None}
    if isinstance(config, list):
        return [_plain_metric(c) for c in config]
    if isinstance(config, dict):
        return {k: _plain_metric(v) for k, v in config.items()}
    return config


def make_portable(model):
    """Save `model` so that plain `keras.saving.load_model` opens it (no fitdoctor import).

    The saved compile config names Keras's own Precision/Recall instead of the multiclass
    wrappers above; fitdoctor puts its wrappers back when it resumes from such a file.
    Uses the public `get_compile_config` hook of Keras models.
    """
    original = type(model).get_compile_config

    def get_compile_config():
        return _plain_metric(original(model))

    model.get_compile_config = get_compile_config
    return model
