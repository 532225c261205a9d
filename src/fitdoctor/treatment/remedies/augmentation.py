"""Add (or strengthen) data augmentation, keeping every label.

Flips and large rotations change the label of arrows, digits, letters and of left/right or up/down
classes, so flips are added only when the spec declares the classes invariant to them
(`data.invariances: [horizontal_flip, vertical_flip, rotation]`), and rotation stays within a few
degrees (`FEW_DEGREES`, +-5) unless `rotation` is declared (then up to +-18 degrees, and up to +-72
when strengthened); otherwise small rotations, shifts and zoom only."""

from fitdoctor.diagnosis.prescriptions import FEW_DEGREES
from fitdoctor.treatment.change import Change

ID = "augmentation"
KINDS = ("overfitting",)
FREE_ROTATION = 0.05  # 18 degrees, for classes declared rotation-invariant
MAX_FACTOR = 0.2
BASE = [
    {"RandomRotation": {"factor": FEW_DEGREES}},
    {"RandomTranslation": {"height_factor": 0.1, "width_factor": 0.1}},
    {"RandomZoom": {"height_factor": 0.1}},
]


def apply(raw: dict, finding) -> Change | None:
    data = raw["data"]
    declared = set(data.get("invariances") or [])
    aug = list(data.get("augmentation") or [])
    if not aug:
        aug = [{name: dict(args)} for item in BASE for name, args in item.items()]
        if "rotation" in declared:
            aug[0]["RandomRotation"]["factor"] = FREE_ROTATION
        flips = [mode for mode in ("horizontal", "vertical") if f"{mode}_flip" in declared]
        if flips:
            aug.append({"RandomFlip": {"mode": "horizontal_and_vertical" if len(flips) == 2 else flips[0]}})
        data["augmentation"] = aug
        return Change("change.augmentation.add", layers=", ".join(next(iter(a)) for a in aug))
    changed = []
    for item in aug:
        name, args = next(iter(item.items())) if isinstance(item, dict) else (item, {})
        cap = FEW_DEGREES if name == "RandomRotation" and "rotation" not in declared else MAX_FACTOR
        for key in ("factor", "height_factor", "width_factor"):
            value = (args or {}).get(key)
            if isinstance(value, int | float) and value < cap:
                args[key] = round(min(cap, value * 1.5), 4)
                changed.append(f"{name}.{key}={args[key]}")
    return Change("change.augmentation.stronger", changes=", ".join(changed)) if changed else None
