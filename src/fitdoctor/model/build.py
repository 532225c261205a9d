"""Spec -> a compiled Keras model (`keras.Sequential`, or functional around a `keras.applications` base),
with every trap caught before training.

Names resolve through Keras itself (`keras.layers`, `keras.optimizers.get`,
`keras.losses.get`, `keras.initializers.get`, `keras.regularizers.get`,
`keras.metrics.get`, `keras.callbacks`), so any Keras class works, and Keras's
snake_case aliases (`adam`, `relu`, `sparse_categorical_crossentropy`) too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from fitdoctor.errors import UserError, closest, did_you_mean, first_line
from fitdoctor.i18n import N_, _
from fitdoctor.model.reading import is_zeros_initializer, norm
from fitdoctor.model.spec import Spec, entry

ONE_HOT_LOSSES = (
    "categoricalcrossentropy",
    "meansquarederror",
    "kldivergence",
    "categoricalfocalcrossentropy",
    "categoricalhinge",
    "meanabsoluteerror",
    "huber",
)
LAYER_KWARGS = ("name", "dtype", "trainable", "autocast", "input_shape", "batch_size", "input_dim", "seed")
OBJECT_ARGS = {
    "kernel_initializer": "initializers",
    "bias_initializer": "initializers",
    "embeddings_initializer": "initializers",
    "gamma_initializer": "initializers",
    "beta_initializer": "initializers",
    "kernel_regularizer": "regularizers",
    "bias_regularizer": "regularizers",
    "activity_regularizer": "regularizers",
    "kernel_constraint": "constraints",
    "bias_constraint": "constraints",
}


@dataclass
class Built:
    """A compiled model and what training needs to know about it."""

    model: object
    augmentation: object | None
    one_hot: bool
    loss_name: str
    warnings: list[str] = field(default_factory=list)


def loss_name(spec: Spec) -> str:
    loss = spec.raw["compile"]["loss"]
    name, _ = entry(loss)
    return name


def wants_one_hot(name: str, output_units: int = 2) -> bool:
    """Whether a loss takes one-hot labels (CategoricalCrossentropy, MSE) rather than integers.

    Example:
        >>> wants_one_hot("sparse_categorical_crossentropy"), wants_one_hot("CategoricalCrossentropy")
        (False, True)
    """
    n = norm(name)
    if n.startswith("sparse"):
        return False
    if "binary" in n:
        return output_units > 1
    return n in ("mse", "mae", "kld") or any(n.endswith(k) for k in ONE_HOT_LOSSES)


def _resolve_object(kind: str, value, where: str):
    """Build an initializer/regularizer/constraint/optimizer/loss from a name or {Name: {args}}."""
    import keras

    module = getattr(keras, kind)
    if isinstance(value, dict) and len(value) == 1:
        name, args = entry(value)
        config = {"class_name": name, "config": args}
    else:
        name, config = str(value), value
    try:
        return module.get(config)
    except (ValueError, TypeError) as exc:
        pool = [n for n in dir(module) if not n.startswith("_") and n[0].isupper()]
        hint = closest(name, pool)
        kind_word = {
            "initializers": N_("initializer"),
            "regularizers": N_("regularizer"),
            "constraints": N_("constraint"),
            "optimizers": N_("optimizer"),
            "losses": N_("loss"),
            "metrics": N_("metric"),
        }[kind]
        if hint and norm(hint) != norm(name):
            raise UserError(
                _("Unknown {kind} '{name}' ({where}).", kind=_(kind_word), name=name, where=where)
                + did_you_mean(name, pool)
            ) from None
        raise UserError(
            _(
                "Bad {kind} '{name}' ({where}): {error}. Check its name and arguments.",
                kind=_(kind_word),
                name=name,
                where=where,
                error=first_line(exc),
            )
        ) from None


def _layer_class(name: str, where: str):
    import keras

    from fitdoctor.model.applications import names

    cls = getattr(keras.layers, name, None)
    if isinstance(cls, type) and issubclass(cls, keras.layers.Layer):
        return cls
    pool = [n for n in dir(keras.layers) if n[:1].isupper()] + names()
    hint = did_you_mean(name, pool)
    raise UserError(
        _("Unknown layer '{layer}' ({where}).", layer=name, where=where)
        + (hint or _(" Use a class name from keras.layers, e.g. Dense, Conv2D."))
    )


def make_layer(name: str, args: dict, where: str, num_classes: int):
    """One Keras layer from its spec entry; `units: auto` becomes the number of classes."""
    import keras

    cls = _layer_class(name, where)
    kwargs = dict(args)
    if kwargs.get("units") == "auto":
        kwargs["units"] = num_classes
    for key, kind in OBJECT_ARGS.items():
        if key in kwargs and kwargs[key] is not None:
            kwargs[key] = _resolve_object(kind, kwargs[key], where)
    if "activation" in kwargs and isinstance(kwargs["activation"], str):
        try:
            keras.activations.get(kwargs["activation"])
        except ValueError:
            import keras.activations as acts

            raise UserError(
                _("Unknown activation '{activation}' ({where}).", activation=kwargs["activation"], where=where)
                + did_you_mean(kwargs["activation"], [n for n in dir(acts) if n.islower() and not n.startswith("_")])
            ) from None
    import inspect

    params = [p for p in inspect.signature(cls.__init__).parameters if p not in ("self", "kwargs", "args")]
    bad = [k for k in args if k not in params and k not in LAYER_KWARGS]
    if bad:
        hint = did_you_mean(bad[0], params)
        raise UserError(
            _("Layer {layer} ({where}) has no argument '{argument}'.", layer=name, where=where, argument=bad[0])
            + (hint or _(" Its arguments are: {params}.", params=", ".join(params[:12])))
        )
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise UserError(
            _("Layer {value} ({where}): {exc}. Fix its arguments.", value=name, where=where, exc=first_line(exc))
        ) from None


def check_spec(spec: Spec, num_classes: int, input_shape: tuple[int, int, int]) -> list[str]:
    """Catch the traps between the building blocks before training; return warnings.

    Errors (UserError): output units that don't match the classes, softmax with one unit,
    sigmoid with categorical cross-entropy over many classes, an input shape that does not
    match the data. Warnings: MSE on classification, Zeros initializer on hidden layers,
    Dropout above 0.5, a learning rate outside [1e-6, 1].
    """
    layers = spec.raw["model"]
    warnings = []
    loss = loss_name(spec)
    last_index = (
        max(i for i, item in enumerate(layers) if entry(item)[0] not in ("Dropout", "Activation", "Flatten"))
        if layers
        else 0
    )
    for i, item in enumerate(layers):
        name, args = entry(item)
        where = spec.where("model", i)
        if i == 0 and "input_shape" in args:
            shape = tuple(args["input_shape"])
            if shape != input_shape:
                raise UserError(
                    _(
                        "Layer {value} ({where}) expects input_shape {shape}, but the data is {input_shape}. Remove "
                        "input_shape (fitdoctor adds the input) or fix data.image_size/color_mode.",
                        value=name,
                        where=where,
                        shape=list(shape),
                        input_shape=list(input_shape),
                    )
                )
        if is_zeros_initializer(args.get("kernel_initializer")) and i != last_index:
            warnings.append(
                _(
                    "Layer {value} ({where}) uses the Zeros initializer on a hidden layer: all its units stay "
                    "identical and learn the same thing. Use GlorotUniform or HeNormal.",
                    value=name,
                    where=where,
                )
            )
        if name == "Dropout" and float(args.get("rate", 0)) > 0.5:
            warnings.append(
                _("Dropout rate {rate} ({where}) is above 0.5: the model may underfit.", rate=args["rate"], where=where)
            )
    out_name, out_args = entry(layers[last_index])
    where = spec.where("model", last_index)
    units = out_args.get("units")
    activation = str(out_args.get("activation", "")).lower()
    effective_units = num_classes if units == "auto" else units
    if activation == "softmax" and effective_units == 1:
        raise UserError(
            _(
                "The output layer ({where}) has softmax with one unit: it always outputs 1.0. Use sigmoid for one "
                "unit, or one unit per class with softmax.",
                where=where,
            )
        )
    if out_name == "Dense" and units not in (None, "auto"):
        binary_ok = units == 1 and num_classes == 2 and activation == "sigmoid"
        if units != num_classes and not binary_ok:
            raise UserError(
                _(
                    "The output layer Dense ({where}) has units={units}, but the data has {num_classes} classes. Use "
                    "'units: auto' or units equal to the number of classes.",
                    where=where,
                    units=units,
                    num_classes=num_classes,
                )
            )
    if activation == "sigmoid" and num_classes > 2 and "categoricalcrossentropy" in norm(loss):
        raise UserError(
            _(
                "The output layer ({where}) uses sigmoid with {loss} over {num_classes} classes: the outputs don't "
                "sum to 1. Use 'activation: softmax'.",
                where=where,
                loss=loss,
                num_classes=num_classes,
            )
        )
    if norm(loss) in ("meansquarederror", "mse"):
        warnings.append(
            _(
                "Loss {loss} ({where}) is meant for regression; for classification use SparseCategoricalCrossentropy "
                "(integer labels) or CategoricalCrossentropy.",
                loss=loss,
                where=spec.where("compile", "loss"),
            )
        )
    opt = spec.raw["compile"]["optimizer"]
    lr = entry(opt)[1].get("learning_rate") if isinstance(opt, dict) else None
    if isinstance(lr, int | float) and not 1e-6 <= lr <= 1:
        warnings.append(
            _(
                "Learning rate {lr} ({optimizer}) is outside [1e-6, 1].",
                lr=lr,
                optimizer=spec.where("compile", "optimizer"),
            )
        )
    return warnings


def _metrics(spec: Spec, num_classes: int, sparse: bool) -> list:
    from fitdoctor.model.metrics import MulticlassPrecision, MulticlassRecall

    out = []
    for i, item in enumerate(spec.raw["compile"].get("metrics") or []):
        name, args = entry(item)
        where = spec.where("compile", "metrics", i)
        if norm(name) == "precision":
            out.append(MulticlassPrecision(num_classes=num_classes, sparse=sparse, **args))
        elif norm(name) == "recall":
            out.append(MulticlassRecall(num_classes=num_classes, sparse=sparse, **args))
        elif norm(name) in ("accuracy", "acc"):
            out.append("accuracy")
        else:
            out.append(_resolve_object("metrics", item, where))
    return out


def build_model(spec: Spec, num_classes: int, input_shape: tuple[int, int, int]) -> Built:
    """Check the spec, then build and compile its `keras.Sequential`.

    Args:
        spec: The loaded spec.
        num_classes: Classes in the data (for `units: auto` and the checks).
        input_shape: (height, width, channels) of the images.
    """
    import keras

    from fitdoctor.model.applications import application, is_base, make_application

    warnings = check_spec(spec, num_classes, input_shape)
    layers = []
    spec_dir = None if spec.source.startswith("<") else Path(spec.source).parent
    for i, item in enumerate(spec.raw["model"]):
        name, args = entry(item)
        if application(name) is not None:
            layers += make_application(name, args, spec.where("model", i), input_shape, spec_dir)
            continue
        args = {k: v for k, v in args.items() if k != "input_shape"}
        layers.append(make_layer(name, args, spec.where("model", i), num_classes))
    bases = [layer for layer in layers if is_base(layer)]
    if spec.raw["fit"].get("fine_tune") and not bases:
        raise UserError(
            _(
                "fit.fine_tune ({where}) needs a keras.applications base in the model (e.g. '- MobileNetV3Small:"
                " {{weights: imagenet, pooling: avg, trainable: false}}').",
                where=spec.where("fit", "fine_tune"),
            )
        )
    try:
        if bases:  # functional, so that the base is called with training=False (BatchNormalization in inference)
            inputs = keras.Input(shape=input_shape)
            x = inputs
            for layer in layers:
                x = layer(x, training=False) if is_base(layer) else layer(x)
            model = keras.Model(inputs, x, name="fitdoctor_model")
        else:
            model = keras.Sequential([keras.Input(shape=input_shape), *layers], name="fitdoctor_model")
    except (ValueError, TypeError) as exc:
        raise UserError(
            _("The model in {source} does not fit together: {exc}", source=spec.source, exc=first_line(exc))
        ) from None
    augmentation = None
    aug = spec.raw["data"].get("augmentation") or []
    if aug:
        aug_layers = [
            make_layer(*entry(item), spec.where("data", "augmentation", i), num_classes) for i, item in enumerate(aug)
        ]
        augmentation = keras.Sequential(aug_layers, name="augmentation")
    comp = spec.raw["compile"]
    loss = loss_name(spec)
    one_hot = wants_one_hot(loss, int(model.output_shape[-1]))
    optimizer = resolve_optimizer(spec)
    loss_obj = _resolve_object("losses", comp["loss"], spec.where("compile", "loss"))
    model.compile(optimizer=optimizer, loss=loss_obj, metrics=_metrics(spec, num_classes, sparse=not one_hot))
    from fitdoctor.model.metrics import make_portable

    make_portable(model)
    return Built(model, augmentation, one_hot, loss, warnings)


def resolve_optimizer(spec: Spec, learning_rate: float | None = None):
    """The spec's optimizer, a new instance; with `learning_rate`, at that rate instead of the spec's."""
    value = spec.raw["compile"]["optimizer"]
    if learning_rate is not None:
        name, args = entry(value)
        value = {name: {**args, "learning_rate": float(learning_rate)}}
    return _resolve_object("optimizers", value, spec.where("compile", "optimizer"))


def recompile(model, spec: Spec, num_classes: int, one_hot: bool, optimizer=None):
    """Give a model loaded from a `.keras` file fitdoctor's metrics back, keeping its optimizer state
    (or with `optimizer` instead, as fine-tuning does)."""
    from fitdoctor.model.metrics import make_portable

    model.compile(
        optimizer=optimizer or model.optimizer, loss=model.loss, metrics=_metrics(spec, num_classes, sparse=not one_hot)
    )
    return make_portable(model)


# Callback arguments that name a file or folder to write: they must stay inside the run directory.
WRITES = {"CSVLogger": "filename", "TensorBoard": "log_dir", "BackupAndRestore": "backup_dir"}


def _inside_run(name: str, args: dict, where: str, run_dir) -> dict:
    """Resolve a writing callback's path inside `run_dir`; refuse one that leaves it."""
    import os

    key = WRITES.get(name)
    if key is None or key not in args or run_dir is None:
        return args
    root = os.path.realpath(run_dir)
    target = os.path.realpath(os.path.join(root, os.fspath(args[key])))
    if os.path.commonpath([root, target]) != root:
        raise UserError(
            _(
                "Callback {value} ({where}) would write to '{key}', outside the run directory '{run_dir}'. Give it a "
                "path inside the run (a relative path is placed there).",
                value=name,
                where=where,
                key=args[key],
                run_dir=run_dir,
            )
        )
    return {**args, key: target}


def make_callbacks(spec: Spec, run_dir=None) -> list:
    """The spec's callbacks as Keras objects (ModelCheckpoint is handled by the run).

    Callbacks that write files (CSVLogger, TensorBoard, BackupAndRestore) write inside `run_dir`:
    a relative path is placed there, a path leaving it is refused.
    """
    import keras

    out = []
    for i, item in enumerate(spec.raw.get("callbacks") or []):
        name, args = entry(item)
        where = spec.where("callbacks", i)
        cls = getattr(keras.callbacks, name, None)
        if not (isinstance(cls, type) and issubclass(cls, keras.callbacks.Callback)):
            raise UserError(
                _("Unknown callback '{callback}' ({where}).", callback=name, where=where)
                + did_you_mean(name, [n for n in dir(keras.callbacks) if n[:1].isupper()])
            )
        if name == "ModelCheckpoint":
            continue
        args = _inside_run(name, args, where, run_dir)
        try:
            out.append(cls(**args))
        except (TypeError, ValueError) as exc:
            raise UserError(
                _(
                    "Callback {value} ({where}): {exc}. Fix its arguments.",
                    value=name,
                    where=where,
                    exc=first_line(exc),
                )
            ) from None
    return out


def checkpoint_settings(spec: Spec) -> dict:
    """monitor/mode for best.keras: the spec's ModelCheckpoint if any, else val_loss with mode "auto"."""
    for item in spec.raw.get("callbacks") or []:
        name, args = entry(item)
        if name == "ModelCheckpoint":
            return {"monitor": args.get("monitor", "val_loss"), "mode": args.get("mode", "auto")}
    return {"monitor": "val_loss", "mode": "auto"}
