"""Lower every Dropout rate by 0.2 (a rate that reaches 0 removes the layer)."""

from fitdoctor.model.reading import layers
from fitdoctor.treatment.change import Change

ID = "less_dropout"
KINDS = ("underfitting",)


def apply(raw: dict, finding) -> Change | None:
    changes = []
    for i in reversed(range(len(raw["model"]))):
        name, args = layers(raw)[i]
        if name != "Dropout":
            continue
        rate = float(args.get("rate", 0))
        new = round(rate - 0.2, 2)
        if new <= 0:
            del raw["model"][i]
            changes.append(f"remove Dropout({rate:g})")
        else:
            raw["model"][i] = {"Dropout": {**args, "rate": new}}
            changes.append(f"Dropout {rate:g}->{new:g}")
    return Change("change.less_dropout", changes=", ".join(reversed(changes))) if changes else None
