"""Train longer: the epochs the evidence asks for (at least double, at most 4x)."""

from fitdoctor.treatment.change import Change

ID = "more_epochs"
KINDS = ("underfitting", "still_improving", "insufficient_data")


def apply(raw: dict, finding) -> Change | None:
    epochs = int(raw["fit"]["epochs"])
    wanted = int(finding.evidence.get("epochs_more") or epochs) + epochs
    new = max(2 * epochs, min(4 * epochs, wanted))
    raw["fit"]["epochs"] = new
    return Change("change.more_epochs", old=epochs, new=new)
