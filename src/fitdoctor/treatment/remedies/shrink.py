"""Halve the widest hidden Dense layer (not below 64 units)."""

from fitdoctor.model.reading import layers, widest_dense
from fitdoctor.treatment.change import Change
from fitdoctor.treatment.spec_edit import set_layer

ID = "smaller_model"
KINDS = ("overfitting",)


def apply(raw: dict, finding) -> Change | None:
    i = widest_dense(raw)
    if i is None:
        return None
    name, args = layers(raw)[i]
    units = int(args.get("units", 0))
    if units <= 64:
        return None
    args["units"] = max(64, units // 2)
    set_layer(raw, i, name, args)
    return Change("change.smaller_model", old=units, new=args["units"])
