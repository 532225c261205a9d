"""Add BatchNormalization after each hidden Dense/Conv layer of a net that does not learn."""

from fitdoctor.model.reading import hidden, layers
from fitdoctor.treatment.change import Change

ID = "batchnorm"
KINDS = ("underfitting",)


def apply(raw: dict, finding) -> Change | None:
    if any(n == "BatchNormalization" for n, _ in layers(raw)):
        return None
    targets = hidden(raw)
    if len(targets) < 2:
        return None
    for i in reversed(targets):
        raw["model"].insert(i + 1, "BatchNormalization")
    return Change("change.batchnorm", n=len(targets))
