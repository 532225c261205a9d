"""Clip each gradient update's norm (clipnorm=1.0)."""

from fitdoctor.model.reading import optimizer
from fitdoctor.treatment.change import Change
from fitdoctor.treatment.spec_edit import set_optimizer_arg

ID = "clipnorm"
KINDS = ("unstable", "diverged")


def apply(raw: dict, finding) -> Change | None:
    _, args = optimizer(raw)
    if "clipnorm" in args:
        return None
    set_optimizer_arg(raw, "clipnorm", 1.0)
    return Change("change.clipnorm")
