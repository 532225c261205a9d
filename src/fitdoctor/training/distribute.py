"""Scale-out with TensorFlow's own `tf.distribute` strategies, nothing home-made.

`none`: the default strategy. `mirrored`: `tf.distribute.MirroredStrategy` over the local
GPUs (or, with no GPU, over `cpu_devices` logical CPU devices, which is how it is tested
here). `multi_worker`: `tf.distribute.MultiWorkerMirroredStrategy`, configured by the
standard `TF_CONFIG` environment variable on each worker.
"""

from __future__ import annotations

import json
import os

from fitdoctor.errors import UserError
from fitdoctor.i18n import _

KINDS = ("none", "mirrored", "multi_worker")


def get_strategy(kind: str, *, cpu_devices: int = 2):
    """The strategy for a kind; call before any other TensorFlow work in the process."""
    import tensorflow as tf

    if kind not in KINDS:
        raise UserError(
            _(
                "The 'distribute' parameter of train must be one of none, mirrored, multi_worker. Got {kind!r} "
                "instead.",
                kind=kind,
            )
        )
    if kind == "none":
        return tf.distribute.get_strategy()
    if kind == "mirrored":
        gpus = tf.config.list_physical_devices("GPU")
        if gpus:
            return tf.distribute.MirroredStrategy()
        cpu = tf.config.list_physical_devices("CPU")[0]
        try:
            tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * cpu_devices)
        except RuntimeError:
            pass  # already initialised: use the logical devices that exist
        devices = [d.name for d in tf.config.list_logical_devices("CPU")]
        return tf.distribute.MirroredStrategy(devices=devices[:cpu_devices] if len(devices) > 1 else devices)
    if "TF_CONFIG" not in os.environ:
        raise UserError(
            _(
                '--distribute multi_worker needs the TF_CONFIG environment variable on each worker (e.g. {{"cluster":'
                ' {{"worker": ["host1:12345", "host2:12345"]}}, "task": {{"type": "worker", "index": 0}}}}).'
            )
        )
    try:
        json.loads(os.environ["TF_CONFIG"])
    except json.JSONDecodeError as exc:
        raise UserError(_("TF_CONFIG is not valid JSON ({msg}). Fix the environment variable.", msg=exc.msg)) from None
    return tf.distribute.MultiWorkerMirroredStrategy()


def is_chief() -> bool:
    """Whether this process writes the run directory: the chief, or worker 0 when there is no chief."""
    config = json.loads(os.environ.get("TF_CONFIG", "{}") or "{}")
    task = config.get("task", {})
    kind, index = task.get("type", "worker"), task.get("index", 0)
    if "chief" in config.get("cluster", {}):
        return kind == "chief"
    return kind == "worker" and index == 0
