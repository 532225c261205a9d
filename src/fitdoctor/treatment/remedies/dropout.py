"""Add Dropout after the widest hidden Dense layer, or raise existing rates towards 0.5."""

from fitdoctor.model.reading import describe_layer, layers, widest_dense
from fitdoctor.treatment.change import Change

ID = "dropout"
KINDS = ("overfitting",)


def apply(raw: dict, finding) -> Change | None:
    model = raw["model"]
    rates = [(i, a) for i, (n, a) in enumerate(layers(raw)) if n == "Dropout"]
    target = widest_dense(raw)
    if target is not None and (target + 1 >= len(model) or layers(raw)[target + 1][0] != "Dropout"):
        model.insert(target + 1, {"Dropout": {"rate": 0.3}})
        return Change("change.dropout.add", layer=describe_layer(*layers(raw)[target]))
    raised = []
    for i, args in rates:
        rate = float(args.get("rate", 0))
        if rate < 0.5:
            args["rate"] = round(min(0.5, rate + 0.2), 2)
            model[i] = {"Dropout": args}
            raised.append(f"{rate:g}->{args['rate']:g}")
    return Change("change.dropout.raise", changes=", ".join(raised)) if raised else None
