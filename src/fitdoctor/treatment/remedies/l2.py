"""Add L2 to the kernels of hidden Dense/Conv layers, or make it 3x stronger (up to 1e-2)."""

from fitdoctor.model.reading import hidden, layers
from fitdoctor.treatment.change import Change
from fitdoctor.treatment.spec_edit import set_layer

ID = "l2"
KINDS = ("overfitting",)


def apply(raw: dict, finding) -> Change | None:
    added, raised = 0, 0
    for i in hidden(raw):
        name, args = layers(raw)[i]
        reg = args.get("kernel_regularizer")
        if reg is None:
            args["kernel_regularizer"] = {"L2": {"l2": 0.0001}}
            added += 1
        elif isinstance(reg, dict) and "L2" in reg and float(reg["L2"].get("l2", 0.01)) < 0.01:
            reg["L2"]["l2"] = round(min(0.01, float(reg["L2"].get("l2", 0.01)) * 3), 6)
            raised += 1
        else:
            continue
        set_layer(raw, i, name, args)
    if added:
        return Change("change.l2.add", n=added)
    return Change("change.l2.raise", n=raised) if raised else None
