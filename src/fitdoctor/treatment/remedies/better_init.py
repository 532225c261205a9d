"""Replace a Zeros (or constant) kernel initializer on hidden layers: HeNormal for ReLU, GlorotUniform otherwise."""

from fitdoctor.model.reading import hidden, initializer_name, is_constant_initializer, layers
from fitdoctor.treatment.change import Change
from fitdoctor.treatment.spec_edit import set_layer

ID = "better_init"
KINDS = ("underfitting",)


def apply(raw: dict, finding) -> Change | None:
    changed = []
    for i in hidden(raw):
        name, args = layers(raw)[i]
        init = args.get("kernel_initializer")
        if is_constant_initializer(init):
            init_name = initializer_name(init)
            args["kernel_initializer"] = "HeNormal" if args.get("activation") == "relu" else "GlorotUniform"
            set_layer(raw, i, name, args)
            changed.append(f"{name} #{i + 1}: {init_name} -> {args['kernel_initializer']}")
    return Change("change.better_init", changes=", ".join(changed)) if changed else None
