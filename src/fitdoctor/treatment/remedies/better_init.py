"""Replace a Zeros (or constant) kernel initializer on hidden layers: HeNormal for ReLU, GlorotUniform otherwise."""

from fitdoctor.model.spec import entry
from fitdoctor.treatment.change import Change
from fitdoctor.treatment.spec_edit import hidden, layers, set_layer

ID = "better_init"
KINDS = ("underfitting",)


def apply(raw: dict, finding) -> str | None:
    changed = []
    for i in hidden(raw):
        name, args = layers(raw)[i]
        init = args.get("kernel_initializer")
        if init is None:
            continue
        init_name = entry(init)[0].lower() if isinstance(init, dict | str) else ""
        if init_name in ("zeros", "zero", "ones", "constant"):
            args["kernel_initializer"] = "HeNormal" if args.get("activation") == "relu" else "GlorotUniform"
            set_layer(raw, i, name, args)
            changed.append(f"{name} #{i + 1}: {init_name} -> {args['kernel_initializer']}")
    return Change("change.better_init", changes=", ".join(changed)) if changed else None
