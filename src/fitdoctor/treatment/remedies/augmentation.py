"""Add (or strengthen) data augmentation, keeping every label.

Flips change the label of arrows, digits, letters and of left/right classes, so they are added
only when the spec declares the classes invariant to them (`data.invariances: [horizontal_flip,
vertical_flip, rotation]`); otherwise rotations, shifts and zoom only."""

from fitdoctor.treatment.change import Change

ID = "augmentation"
KINDS = ("overfitting",)
BASE = [
    {"RandomRotation": {"factor": 0.05}},
    {"RandomTranslation": {"height_factor": 0.1, "width_factor": 0.1}},
    {"RandomZoom": {"height_factor": 0.1}},
]


def apply(raw: dict, finding) -> Change | None:
    data = raw["data"]
    aug = list(data.get("augmentation") or [])
    if not aug:
        aug = [dict(x) for x in BASE]
        declared = set(data.get("invariances") or [])
        flips = [mode for mode in ("horizontal", "vertical") if f"{mode}_flip" in declared]
        if flips:
            aug.append({"RandomFlip": {"mode": "horizontal_and_vertical" if len(flips) == 2 else flips[0]}})
        data["augmentation"] = aug
        return Change("change.augmentation.add", layers=", ".join(next(iter(a)) for a in aug))
    changed = []
    for item in aug:
        name, args = next(iter(item.items())) if isinstance(item, dict) else (item, {})
        for key in ("factor", "height_factor", "width_factor"):
            value = (args or {}).get(key)
            if isinstance(value, int | float) and value < 0.2:
                args[key] = round(min(0.2, value * 1.5), 3)
                changed.append(f"{name}.{key}={args[key]}")
    return Change("change.augmentation.stronger", changes=", ".join(changed)) if changed else None
