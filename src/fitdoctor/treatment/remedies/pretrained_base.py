"""Replace the convolutional trunk by a pretrained `keras.applications` base and fine-tune it.

The classic cure for overfitting on a few hundred photos per class, and for a small model that
underfits colour images: Keras's transfer-learning recipe (fastai's `fine_tune`). The layers
before the first Dense (convolutions, pooling, Flatten) give way to MobileNetV3Small (ImageNet
weights, frozen, average pooling), the head stays, and `fit.fine_tune` unfreezes its top layers
for a second phase at a low rate. Only for RGB images of at least 32x32, and only when the
weights can be loaded: without them (no network, say) the remedy says why and the other remedies
are used (`Unavailable`).
"""

from fitdoctor.model.reading import layers
from fitdoctor.treatment.change import Change

ID = "pretrained_base"
KINDS = ("overfitting", "underfitting")
APPLICATION = "MobileNetV3Small"  # small and fast on a CPU
BASE = {"include_top": False, "weights": "imagenet", "pooling": "avg", "trainable": False}
SMALL_DATA = 1000  # training images per class under which a network from scratch overfits photos
SMALL_MODEL = 2  # at most this many convolutions: a small model
UNFREEZE = 20  # the top layers opened for fine-tuning
FINE_TUNE_RATE = 1e-5
USES_FACTS = True  # `apply` is given what the run knows of the data (images per class)


class Unavailable(Exception):
    """The remedy fits the case but cannot be applied here; `reason` says why (a Change)."""

    def __init__(self, reason: Change):
        super().__init__(str(reason))
        self.reason = reason


def weights_available(image_size) -> str | None:
    """None when the ImageNet weights load (downloaded once by Keras into ~/.keras/models), else why not."""
    import keras

    try:
        keras.applications.MobileNetV3Small(
            input_shape=(*image_size, 3), include_top=False, weights="imagenet", pooling="avg"
        )
    except Exception as exc:  # no network, a proxy, a full disk: one line of why
        from fitdoctor.errors import first_line

        # Keras says "URL fetch failure on URL: None -- [Errno -2] ...": keep the cause
        return first_line(exc).split(" -- ")[-1][:160]
    return None


def suits(raw: dict, finding, facts: dict) -> bool:
    """RGB images of at least 32x32, no pretrained base yet, and: few images per class (overfitting)
    or a small convolutional model (underfitting)."""
    from fitdoctor.model.applications import application

    data = raw["data"]
    if data.get("color_mode") != "rgb" or min(data.get("image_size") or [0]) < 32:
        return False
    names = [name for name, _args in layers(raw)]
    if any(application(name) is not None for name in names):
        return False
    if finding.kind == "overfitting":
        return facts.get("train_per_class", 0) < SMALL_DATA  # unknown: photos are rarely plenty
    return sum(name.startswith("Conv") or name.startswith("SeparableConv") for name in names) <= SMALL_MODEL


def apply(raw: dict, finding, facts: dict | None = None) -> Change | None:
    facts = facts or {}
    if not suits(raw, finding, facts):
        return None
    names = [name for name, _args in layers(raw)]
    head = names.index("Dense") if "Dense" in names else len(names) - 1
    why = weights_available(raw["data"]["image_size"])
    if why is not None:
        raise Unavailable(Change("skip.pretrained_base", application=APPLICATION, reason=why))
    removed = head
    raw["model"] = [{APPLICATION: dict(BASE)}, *raw["model"][head:]]
    epochs = int(raw["fit"]["epochs"])
    tune_epochs = max(2, epochs // 2)
    raw["fit"]["fine_tune"] = {"unfreeze": UNFREEZE, "epochs": tune_epochs, "learning_rate": FINE_TUNE_RATE}
    return Change(
        "change.pretrained_base", application=APPLICATION, removed=removed, unfreeze=UNFREEZE, epochs=tune_epochs
    )
