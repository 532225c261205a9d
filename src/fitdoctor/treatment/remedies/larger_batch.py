"""Double the batch size (up to 512) for less noisy gradients."""

from fitdoctor.treatment.change import Change

ID = "larger_batch"
KINDS = ("unstable", "diverged")


def apply(raw: dict, finding) -> Change | None:
    batch = int(raw["data"].get("batch_size", 32))
    if batch >= 512:
        return None
    raw["data"]["batch_size"] = min(512, batch * 2)
    return Change("change.larger_batch", old=batch, new=raw["data"]["batch_size"])
