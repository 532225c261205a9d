"""Remedies for each finding, ranked for the case at hand, with the Keras code to apply them.

The catalogue follows the user's notes: for overfitting, augmentation, Dropout, L2, a
smaller model, EarlyStopping, a lower learning rate, more data; for underfitting, more
capacity, more epochs, less dropout, normalised inputs, a higher learning rate, a better
initializer. Ranking uses the finding's evidence and, when known, the training spec
(a remedy already in place moves down, with a note to strengthen it).
"""

from __future__ import annotations

from fitdoctor.diagnosis.findings import Finding, Remedy
from fitdoctor.i18n import t
from fitdoctor.model.reading import context, usual_lr

FEW_DEGREES = 0.0138  # RandomRotation's factor is a fraction of a full turn: just under 5 degrees

SNIPPETS = {
    "augmentation": (
        f"keras.Sequential([layers.RandomRotation({FEW_DEGREES}), layers.RandomTranslation(0.1, 0.1)])"
        "  # up to 5 degrees"
    ),
    "dropout": "layers.Dropout(0.5)  # after the widest Dense layer",
    "l2": "layers.Dense(128, kernel_regularizer=keras.regularizers.L2(1e-4))",
    "smaller_model": "layers.Dense(128)  # instead of Dense(1024); or drop a layer",
    "early_stopping": "keras.callbacks.EarlyStopping(monitor='val_loss', patience=5, restore_best_weights=True)",
    "lower_lr": "keras.optimizers.Adam(learning_rate=1e-4)",
    "more_data": "# collect more images per class, or augment (see above)",
    "more_capacity": "layers.Dense(256, activation='relu')  # wider, or add a Conv2D block",
    "more_epochs": "model.fit(..., epochs=EPOCHS)",
    "less_regularisation": "layers.Dropout(0.2)  # instead of 0.5; and L2(1e-4) instead of L2(1e-2)",
    "normalize_inputs": "layers.Rescaling(1 / 255)  # pixels in [0, 1]",
    "higher_lr": "keras.optimizers.Adam(learning_rate=1e-3)",
    "better_init": "layers.Dense(128, activation='relu', kernel_initializer='he_normal')",
    "batchnorm": "layers.BatchNormalization()  # after each Dense/Conv2D, before the activation",
    "clipnorm": "keras.optimizers.SGD(learning_rate=0.01, momentum=0.9, clipnorm=1.0)",
    "larger_batch": "model.fit(..., batch_size=128)",
    "check_inputs": "assert np.isfinite(x_train).all()  # NaN or inf in the data?",
    "pretrained_base": (
        "keras.applications.MobileNetV3Small(include_top=False, weights='imagenet', pooling='avg')"
        "  # frozen, then fine-tuned"
    ),
}

BASE_ORDER = {
    "overfitting": ["augmentation", "dropout", "l2", "early_stopping", "smaller_model", "lower_lr", "more_data"],
    "underfitting": [
        "more_capacity",
        "more_epochs",
        "less_regularisation",
        "normalize_inputs",
        "higher_lr",
        "better_init",
        "batchnorm",
    ],
    "still_improving": ["more_epochs", "higher_lr"],
    "unstable": ["lower_lr", "clipnorm", "larger_batch"],
    "diverged": ["lower_lr", "clipnorm", "check_inputs", "larger_batch"],
    "good_fit": ["early_stopping"],
    "insufficient_data": ["more_epochs"],
}


def rank(finding: Finding, ctx: dict) -> list[str]:
    """Remedy ids for a finding, most fitting first."""
    order = list(BASE_ORDER.get(finding.kind, []))
    ev = finding.evidence

    def first(*ids):
        for rid in reversed(ids):
            if rid in order:
                order.remove(rid)
                order.insert(0, rid)

    def last(rid):
        if rid in order:
            order.remove(rid)
            order.append(rid)

    if finding.kind == "overfitting":
        if finding.form == "overconfidence":
            first("early_stopping")
        if ev.get("best_epoch", 99) <= 3:
            first("lower_lr", "smaller_model")
        if ctx["augmentation"]:
            last("augmentation")
        if ctx["max_dropout"] >= 0.5:
            last("dropout")
        if ctx["early_stopping"]:
            last("early_stopping")
        if ctx["l2"]:
            last("l2")
    elif finding.kind == "underfitting":
        if finding.form == "blown_up":  # the learning rate broke the network: never raise it
            order.remove("higher_lr")
            order.insert(0, "lower_lr")
            first("lower_lr", "better_init")
        if finding.form == "stuck_at_chance":
            first("better_init", "higher_lr", "normalize_inputs", "batchnorm")
            if ctx["constant_init"]:
                first("better_init")
        if finding.form == "regularised" or ctx["max_dropout"] >= 0.5:
            first("less_regularisation")
        if ctx["max_dropout"] == 0 and not ctx["l2"]:
            last("less_regularisation")
        if ev.get("dead_relu_fraction", 0) > 0.5:
            first("better_init", "lower_lr" if "lower_lr" in order else "higher_lr")
    elif finding.kind == "still_improving" and ctx["lr"] and ctx["lr"] < usual_lr(ctx["optimizer"] or "") / 3:
        first("higher_lr")
    if ctx["photos"] and not ctx["pretrained"] and finding.kind in ("overfitting", "underfitting"):
        order.insert(0 if finding.kind == "overfitting" else min(1, len(order)), "pretrained_base")
    return order


def prescribe(finding: Finding, spec: dict | None, lang: str) -> list[Remedy]:
    """The ranked remedies for a finding, each with why (in `lang`) and its Keras code."""
    ctx = context(spec)
    out = []
    for rid in rank(finding, ctx):
        why = t(f"remedy.{rid}.why", lang)
        if finding.kind == "overfitting" and (
            (rid == "augmentation" and ctx["augmentation"])
            or (rid == "dropout" and ctx["max_dropout"] >= 0.5)
            or (rid == "early_stopping" and ctx["early_stopping"])
        ):
            why = t("remedy.already_used", lang, why=why)
        out.append(Remedy(rid, why, SNIPPETS[rid]))
    return out
