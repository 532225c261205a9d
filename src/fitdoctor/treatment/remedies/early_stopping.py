"""EarlyStopping on val_loss with restore_best_weights (added, or made to restore)."""

from fitdoctor.model.reading import callback_index
from fitdoctor.treatment.change import Change

ID = "early_stopping"
KINDS = ("overfitting",)


def apply(raw: dict, finding) -> Change | None:
    callbacks = raw.setdefault("callbacks", [])
    index = callback_index(raw, "EarlyStopping")
    # Augmented, regularised training is noisier on validation and converges later: a quarter of
    # the epochs (5 to 10) lets it get there (measured: the demo's round 1 stopped at epoch 12 of 30
    # with patience 3 or 5, and ran its 30 epochs to a better test score with 7).
    patience = max(5, min(10, int(raw["fit"]["epochs"]) // 4))
    if index is None:
        callbacks.append({"EarlyStopping": {"monitor": "val_loss", "patience": patience, "restore_best_weights": True}})
        return Change("change.early_stopping.add", patience=patience)
    args = dict(next(iter(callbacks[index].values())) or {}) if isinstance(callbacks[index], dict) else {}
    if not args.get("restore_best_weights"):
        args["restore_best_weights"] = True
        callbacks[index] = {"EarlyStopping": args}
        return Change("change.early_stopping.restore")
    return None
