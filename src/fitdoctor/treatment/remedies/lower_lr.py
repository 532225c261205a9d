"""Lower the learning rate (x0.3, not below 1e-5; x0.1 when it broke the network)."""

from fitdoctor.model.reading import learning_rate
from fitdoctor.treatment.change import Change
from fitdoctor.treatment.spec_edit import set_optimizer_arg

ID = "lower_lr"
KINDS = ("overfitting", "unstable", "diverged", "underfitting")  # underfitting: only the blown_up form ranks it


def apply(raw: dict, finding) -> Change | None:
    lr = learning_rate(raw)
    factor = 0.1 if finding.kind == "diverged" or finding.form == "blown_up" else 0.3
    new = max(1e-5, lr * factor)
    if new >= lr:
        return None
    set_optimizer_arg(raw, "learning_rate", float(f"{new:.3g}"))
    return Change("change.lower_lr", old=f"{lr:g}", new=f"{float(f'{new:.3g}'):g}")
