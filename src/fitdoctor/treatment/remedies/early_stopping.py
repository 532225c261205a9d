"""EarlyStopping on val_loss with restore_best_weights (added, or made to restore)."""

from fitdoctor.treatment.change import Change
from fitdoctor.treatment.spec_edit import callback_index

ID = "early_stopping"
KINDS = ("overfitting",)


def apply(raw: dict, finding) -> str | None:
    callbacks = raw.setdefault("callbacks", [])
    index = callback_index(raw, "EarlyStopping")
    # Augmented, regularised training is noisier on validation: fewer than 5 epochs of patience
    # stops it before it has converged.
    patience = max(5, min(10, int(raw["fit"]["epochs"]) // 8))
    if index is None:
        callbacks.append({"EarlyStopping": {"monitor": "val_loss", "patience": patience, "restore_best_weights": True}})
        return Change("change.early_stopping.add", patience=patience)
    args = dict(next(iter(callbacks[index].values())) or {}) if isinstance(callbacks[index], dict) else {}
    if not args.get("restore_best_weights"):
        args["restore_best_weights"] = True
        callbacks[index] = {"EarlyStopping": args}
        return Change("change.early_stopping.restore")
    return None
