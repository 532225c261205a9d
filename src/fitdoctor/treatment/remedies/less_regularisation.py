"""Weaken every regulariser the spec has, Dropout and L2 alike, by a step sized to the evidence.

The further training accuracy is from healthy (`HEALTHY`), the bigger the step: a model at 60%
training accuracy has its Dropout rates scaled by 0.42 and its L2 factors by 0.18 (the square); one
at 90% by 0.92 and 0.85; at 50% or below, by 0.25 and 0.06. A Dropout rate that falls under 0.05
removes the layer; an L2 factor under 1e-6 removes the regulariser. Without an accuracy curve the
step is the middle one.

Example:
    >>> from fitdoctor.diagnosis.findings import Finding
    >>> raw = {"model": [{"Dense": {"units": 64, "kernel_regularizer": {"L2": {"l2": 0.01}}}},
    ...                  {"Dropout": {"rate": 0.6}}, {"Dense": {"units": 10}}]}
    >>> print(apply(raw, Finding("underfitting", 0.8, None, {"accuracy_end": 0.6}, form="regularised")))
    weaker regularisation (step x0.42 for training accuracy 0.60): L2 0.01->0.00176, Dropout 0.6->0.25
"""

from fitdoctor.model.reading import layers
from fitdoctor.treatment.change import Change
from fitdoctor.treatment.spec_edit import set_layer

ID = "less_regularisation"
KINDS = ("underfitting",)
HEALTHY = 0.95  # training accuracy of a model that is not held back
MIDDLE = 0.5  # the step's severity when there is no accuracy curve


def step(finding) -> tuple[float, float | None]:
    """(the factor Dropout rates are scaled by, the training accuracy it came from); L2 gets the factor squared."""
    accuracy = finding.evidence.get("accuracy_end")
    severity = MIDDLE if accuracy is None else min(1.0, max(0.1, (HEALTHY - float(accuracy)) / 0.45))
    return round(1 - 0.75 * severity, 2), accuracy


def _weaker_l2(reg, factor: float):
    """(new regulariser or None to remove it, old, new) for an L2 written any way Keras reads; None if not L2."""
    if isinstance(reg, str) and reg.lower() == "l2":
        reg = {"L2": {"l2": 0.01}}  # Keras's default factor for "l2"
    if not (isinstance(reg, dict) and len(reg) == 1):
        return None
    name, args = next(iter(reg.items()))
    args = dict(args or {})
    keys = {"L2": ("l2",), "l2": ("l2",), "L1L2": ("l1", "l2")}.get(name)
    if keys is None or not args.get("l2", 0.01 if name != "L1L2" else 0):
        return None
    old = float(args.get("l2", 0.01))
    new = float(f"{old * factor:.3g}")
    if new < 1e-6 and not args.get("l1"):
        return (None, old, 0.0)
    args["l2"] = new
    return ({name: args}, old, new)


def apply(raw: dict, finding) -> Change | None:
    factor, accuracy = step(finding)
    changes = []
    for i in reversed(range(len(raw["model"]))):
        name, args = layers(raw)[i]
        if name == "Dropout":
            rate = float(args.get("rate", 0))
            new = round(rate * factor, 2)
            if new < 0.05:
                del raw["model"][i]
                changes.append(f"remove Dropout({rate:g})")
            elif new < rate:
                raw["model"][i] = {"Dropout": {**args, "rate": new}}
                changes.append(f"Dropout {rate:g}->{new:g}")
            continue
        weaker = [
            (key, _weaker_l2(args.get(key), factor * factor)) for key in ("kernel_regularizer", "bias_regularizer")
        ]
        for key, result in weaker:
            if result is None:
                continue
            reg, old, new = result
            if reg is None:
                args.pop(key)
                changes.append(f"remove L2({old:g})")
            else:
                args[key] = reg
                changes.append(f"L2 {old:g}->{new:g}")
        if any(result for _key, result in weaker):
            set_layer(raw, i, name, args)
    if not changes:
        return None
    return Change(
        "change.less_regularisation",
        factor=f"{factor:g}",
        accuracy="-" if accuracy is None else f"{accuracy:.2f}",
        changes=", ".join(reversed(changes)),
    )
