"""Raise the learning rate: straight to the optimizer's usual rate when far below it, else x3 (at most 10x usual)."""

from fitdoctor.model.reading import learning_rate, optimizer, usual_lr
from fitdoctor.treatment.change import Change
from fitdoctor.treatment.spec_edit import set_optimizer_arg

ID = "higher_lr"
KINDS = ("underfitting", "still_improving")


def apply(raw: dict, finding) -> Change | None:
    name, _ = optimizer(raw)
    usual = usual_lr(name)
    lr = learning_rate(raw)
    cap = usual * 10
    new = usual if lr < usual / 3 else min(cap, lr * 3)
    if new <= lr:
        return None
    set_optimizer_arg(raw, "learning_rate", float(f"{new:.3g}"))
    return Change("change.higher_lr", old=f"{lr:g}", new=f"{float(f'{new:.3g}'):g}")
