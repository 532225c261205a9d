"""Make Keras 3's `fit` work under `tf.distribute.MultiWorkerMirroredStrategy`.

Keras 3.15 breaks there in two places (upstream: keras-team/keras#20585, open): its
symbolic build reduces a distributed data batch eagerly, which the collective ops refuse,
and it reduces scalar logs with `axis=0`. This module, used only for `--distribute
multi_worker`, builds the model on a local sample batch instead, and reduces per-replica
logs with `strategy.reduce("MEAN", value, axis=None)` (a cross-worker mean). Training
itself (gradients all-reduced by the strategy) is TensorFlow's own and untouched.
Remove it once Keras fixes the issue.
"""

from __future__ import annotations

_PATCHED = False


def enable(model, strategy, sample_batch) -> None:
    """Apply both work-arounds for this model (idempotent for the module-level one)."""
    global _PATCHED
    import tensorflow as tf
    from keras import tree
    from keras.src.backend.tensorflow import trainer as tf_trainer

    def build(iterator=None, data_batch=None):
        with strategy.scope():
            model._symbolic_build(data_batch=sample_batch)

    model._maybe_symbolic_build = build
    if _PATCHED:
        return
    original = tf_trainer.reduce_per_replica

    def reduce_per_replica(values, strategy, reduction="auto"):
        if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) and reduction in ("auto", "mean"):

            def one(v):
                if isinstance(v, tf.distribute.DistributedValues):
                    return strategy.reduce("MEAN", v, axis=None)
                return v

            return tree.map_structure(one, values)
        return original(values, strategy, reduction)

    tf_trainer.reduce_per_replica = reduce_per_replica
    _PATCHED = True
