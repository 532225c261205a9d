"""More capacity: lift bottlenecks to 64 units and double narrow hidden Dense layers (up to 512);
with no hidden layer, add Dense(128, relu)."""

from fitdoctor.model.reading import hidden, layers, output_index
from fitdoctor.treatment.change import Change
from fitdoctor.treatment.spec_edit import set_layer

ID = "more_capacity"
KINDS = ("underfitting",)


def apply(raw: dict, finding) -> Change | None:
    dense = hidden(raw, ("Dense",))
    if not dense:
        raw["model"].insert(output_index(raw), {"Dense": {"units": 128, "activation": "relu"}})
        return Change("change.more_capacity.add")
    changes = []
    for i in dense:
        name, args = layers(raw)[i]
        units = int(args.get("units", 0))
        new = 64 if units < 32 else min(512, units * 2)
        if new > units:
            args["units"] = new
            set_layer(raw, i, name, args)
            changes.append(f"Dense({units}) -> Dense({new})")
    return Change("change.more_capacity.widen", changes=", ".join(changes)) if changes else None
