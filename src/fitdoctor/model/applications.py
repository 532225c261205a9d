"""`keras.applications` as spec entries: a pretrained base, with what users usually get wrong done right.

    model:
      - MobileNetV3Small: {include_top: false, weights: imagenet, pooling: avg, trainable: false}
      - Dense: {units: auto, activation: softmax}

Any application class is an entry; its own arguments pass through (`alpha`, `pooling`, ...), and
`weights` is `imagenet` (downloaded once by Keras's own mechanism into ~/.keras/models), `null`, or
the path of a weights file. fitdoctor then takes care of (keras#16081, keras-io#1549):
- **preprocessing**: the loader gives pixels in [0, 1]; each application expects its own range
  (0-255, -1..1, ImageNet mean and deviation, BGR for the caffe family). `preprocess_input` is
  measured on probe pixels and written as one frozen 1x1 `Conv2D` in front of the base, which
  also repeats greyscale to the three colour channels the base needs. Plain Keras layers only:
  the `.keras` file loads with `keras.saving.load_model` and no custom objects;
- **inference-mode BatchNormalization**: the base is called with `training=False`, so its
  statistics stay those of ImageNet while the head trains and during fine-tuning;
- **input size**: too small an `image_size` is one clear line (MobileNetV3 wants at least 32x32).

Applications that suit a CPU: MobileNetV3Small and MobileNetV3Large, MobileNetV2, EfficientNetB0
and EfficientNetV2B0 (a few million weights); ResNet, VGG, ConvNeXt and the larger EfficientNets
are slow to train without a GPU.
"""

from __future__ import annotations

import inspect
import os
from pathlib import Path

import numpy as np

from fitdoctor.errors import UserError, did_you_mean, first_line
from fitdoctor.i18n import _

# Arguments fitdoctor sets itself: the input comes from the data, the top is the spec's own layers.
MANAGED = ("input_shape", "input_tensor", "classes", "classifier_activation")
PREPROCESS_SUFFIX = "_preprocess"


def application(name: str):
    """The `keras.applications` constructor called `name`, or None when there is none."""
    if not name[:1].isupper():
        return None
    import keras

    fn = getattr(keras.applications, name, None)
    return fn if callable(fn) and not isinstance(fn, type) else None


def names() -> list[str]:
    import keras

    return [n for n in dir(keras.applications) if application(n) is not None]


def preprocessing_affine(fn) -> tuple[np.ndarray, np.ndarray]:
    """The application's `preprocess_input` as (M [3, 3], b [3]) with out = pixels_0_255 @ M + b.

    Every Keras application preprocesses each pixel by an affine map of its colours (scaling,
    mean and deviation, RGB -> BGR); measured here on probe pixels and checked on random ones.

    Example:
        >>> import keras
        >>> m, b = preprocessing_affine(keras.applications.MobileNetV2)  # "tf" mode: -1 .. 1
        >>> np.round(np.diag(m) * 255 + b, 3).tolist(), np.round(b, 3).tolist()
        ([1.0, 1.0, 1.0], [-1.0, -1.0, -1.0])
    """
    import sys

    module = sys.modules[fn.__module__]
    pre = getattr(module, "preprocess_input", None)
    probe = np.array([[[[0, 0, 0], [255, 0, 0], [0, 255, 0], [0, 0, 255]]]], np.float32)
    if pre is None:
        return np.eye(3, dtype=np.float32), np.zeros(3, np.float32)
    y = np.asarray(pre(probe.copy()), np.float64)[0, 0]
    b = y[0]
    m = (y[1:] - b) / 255.0
    rng = np.random.default_rng(0)
    check = rng.uniform(0, 255, (1, 4, 4, 3)).astype(np.float32)
    if not np.allclose(np.asarray(pre(check.copy()), np.float64), check.astype(np.float64) @ m + b, atol=1e-3):
        raise UserError(
            _(
                "The preprocessing of {name} is not a per-pixel colour map; fitdoctor cannot build it into the model. "
                "Use another application, such as MobileNetV3Small.",
                name=fn.__name__,
            )
        )
    return m.astype(np.float32), b.astype(np.float32)


def _weights(value, where: str, spec_dir: Path | None):
    """`imagenet`, None, or a weights file that exists (relative to the spec's folder, else the working folder)."""
    if value is None or value == "imagenet":
        return value
    path = Path(os.path.expanduser(str(value)))
    candidates = [path] if path.is_absolute() else [*([spec_dir / path] if spec_dir else []), Path.cwd() / path]
    for candidate in candidates:
        if candidate.is_file():
            return str(candidate)
    raise UserError(
        _(
            "The weights file '{path}' ({where}) does not exist. Use weights: imagenet, weights: null, or the path of a"
            " .weights.h5 file saved from the same application.",
            path=value,
            where=where,
        )
    )


def make_application(name: str, args: dict, where: str, input_shape: tuple, spec_dir: Path | None = None):
    """(the frozen preprocessing Conv2D, the application model) for one spec entry.

    Args:
        name: The `keras.applications` class, e.g. MobileNetV3Small.
        args: The entry's arguments: the application's own, plus `trainable` (default true).
        where: The spec file and line, for errors.
        input_shape: (height, width, channels) of the data; greyscale is repeated to RGB.
        spec_dir: The spec's folder, where a relative weights path is looked up first.
    """
    import keras

    fn = application(name)
    params = [p for p in inspect.signature(fn).parameters if p not in MANAGED]
    bad = [k for k in args if k not in params and k != "trainable"]
    if bad:
        hint = did_you_mean(bad[0], [*params, "trainable"])
        raise UserError(
            _("Layer {layer} ({where}) has no argument '{argument}'.", layer=name, where=where, argument=bad[0])
            + (hint or _(" Its arguments are: {params}.", params=", ".join(params)))
        )
    kwargs = {k: v for k, v in args.items() if k != "trainable"}
    kwargs.setdefault("include_top", False)
    if kwargs["include_top"]:
        raise UserError(
            _(
                "{name} ({where}) must have include_top: false: fitdoctor puts your classes on top (the spec's next"
                " layers, e.g. Dense: {{units: auto, activation: softmax}}).",
                name=name,
                where=where,
            )
        )
    kwargs["weights"] = _weights(kwargs.get("weights", "imagenet"), where, spec_dir)
    height, width, channels = input_shape
    if channels not in (1, 3):
        raise UserError(
            _(
                "{name} ({where}) needs greyscale or RGB images; data.color_mode gives {channels} channels. Use"
                " color_mode: rgb.",
                name=name,
                where=where,
                channels=channels,
            )
        )
    try:
        base = fn(input_shape=(height, width, 3), **kwargs)
    except ValueError as exc:
        text = first_line(exc)
        raise UserError(
            _(
                "{name} ({where}) cannot take images of {height}x{width}: {reason}. Change data.image_size (e.g."
                " [96, 96] or [224, 224]).",
                name=name,
                where=where,
                height=height,
                width=width,
                reason=text,
            )
        ) from None
    except Exception as exc:  # a download that fails (no network), or a weights file of another model
        text = first_line(exc)
        raise UserError(
            _(
                "The weights of {name} ({where}) could not be loaded: {reason}. Where there is no network, download"
                " them once elsewhere (Keras keeps them in ~/.keras/models), or use weights: null or the path of a"
                " weights file.",
                name=name,
                where=where,
                reason=text[:200],
            )
        ) from None
    base.trainable = bool(args.get("trainable", True))
    m, b = preprocessing_affine(fn)
    kernel = (m * 255.0)[None, None] if channels == 3 else (m * 255.0).sum(0)[None, None, None]
    pre = keras.layers.Conv2D(3, 1, trainable=False, name=f"{base.name.lower()}{PREPROCESS_SUFFIX}")
    pre.build((None, height, width, channels))
    pre.set_weights([kernel.astype(np.float32), b])
    return pre, base


def is_base(layer) -> bool:
    """Whether a layer of a built model is a `keras.applications` base (a nested model)."""
    import keras

    return isinstance(layer, keras.Model)


def unfreeze(base, count) -> int:
    """Make the top `count` layers of `base` trainable ("all": every layer), BatchNormalization excepted.

    Returns how many layers became trainable. BatchNormalization layers stay frozen, in inference
    mode, as Keras's transfer-learning guide does: their ImageNet statistics are kept.
    """
    import keras

    base.trainable = True
    layers = base.layers
    top = layers if count == "all" else layers[max(0, len(layers) - int(count)) :]
    opened = 0
    for layer in layers:
        layer.trainable = False
    for layer in top:
        if isinstance(layer, keras.layers.BatchNormalization) or not layer.weights:
            continue
        layer.trainable = True
        opened += 1
    return opened
