"""The report's plots are PNGs; the optional ones say None when there is nothing to draw."""

from fitdoctor.report import plots

LABELS = {
    "title": "t", "epoch": "epoch", "train": "train", "val": "val", "best": "best", "onset": "onset",
    "predicted": "predicted", "true": "true", "round": "round",
}  # fmt: skip
PNG = b"\x89PNG\r\n\x1a\n"


def test_curves_and_gap():
    h = {"loss": [1.0, 0.5, 0.3, 0.2], "val_loss": [1.0, 0.6, 0.5, 0.6]}
    assert plots.curves(h, "loss", LABELS, best_epoch=3, onset_epoch=4).startswith(PNG)
    assert plots.gap(h, LABELS).startswith(PNG)
    assert plots.gap({"loss": [1.0, 0.5]}, LABELS) is None  # no validation curve: no gap


def test_confusion_counts_and_rounds():
    assert plots.confusion([[3, 1], [0, 4]], ["cat", "dog"], LABELS).startswith(PNG)
    assert plots.counts({"train": {"cat": 8, "dog": 8}, "val": {"cat": 2, "dog": 2}}, LABELS).startswith(PNG)
    assert plots.rounds([0.9, 0.95], ["overfitting", "good fit"], 1, LABELS).startswith(PNG)
