"""The report's figures, drawn with matplotlib (Agg), returned as PNG bytes.

Each function takes plain data (lists, dicts, numpy arrays) and never a model.
"""

from __future__ import annotations

import io

import numpy as np

TRAIN_COLOR, VAL_COLOR, MARK_COLOR = "#2f6db5", "#e07b39", "#b8323a"


def _figure(width: float = 6.4, height: float = 3.6):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(width, height), dpi=110)
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(alpha=0.25)
    return fig, ax


def _epochs_axis(ax) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _png(fig, tight: bool = True) -> bytes:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    if tight:
        fig.tight_layout()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def curves(
    history: dict, metric: str, labels: dict, best_epoch: int | None = None, onset_epoch: int | None = None
) -> bytes | None:
    """Training and validation `metric` per epoch on the same axes, best epoch and onset marked.

    Args:
        history: Keras History dict.
        metric: "loss" or "accuracy".
        labels: {"train", "val", "epoch", "best", "onset", "title"} in the report's language.
        best_epoch, onset_epoch: 1-based epochs to mark.
    """
    train, val = history.get(metric), history.get(f"val_{metric}")
    if not train and not val:
        return None
    fig, ax = _figure()
    for values, color, label in ((train, TRAIN_COLOR, labels["train"]), (val, VAL_COLOR, labels["val"])):
        if values:
            y = np.array([np.nan if v is None else v for v in values], dtype=float)
            ax.plot(np.arange(1, len(y) + 1), y, color=color, lw=2, label=label)
    if best_epoch:
        ax.axvline(best_epoch, color="#3a8f3a", ls="--", lw=1.2, label=f"{labels['best']} ({best_epoch})")
    if onset_epoch:
        ax.axvline(onset_epoch, color=MARK_COLOR, ls=":", lw=1.5, label=f"{labels['onset']} ({onset_epoch})")
    ax.set_xlabel(labels["epoch"])
    _epochs_axis(ax)
    ax.set_title(labels["title"], loc="left", fontsize=11)
    ax.legend(frameon=False, fontsize=8)
    return _png(fig)


def gap(history: dict, labels: dict) -> bytes | None:
    """The generalisation gap (val_loss - loss) per epoch."""
    train, val = history.get("loss"), history.get("val_loss")
    if not train or not val:
        return None
    t = np.array([np.nan if v is None else v for v in train], dtype=float)
    v = np.array([np.nan if x is None else x for x in val], dtype=float)
    fig, ax = _figure(6.4, 2.6)
    epochs = np.arange(1, len(t) + 1)
    ax.fill_between(epochs, 0, v - t, color=MARK_COLOR, alpha=0.25)
    ax.plot(epochs, v - t, color=MARK_COLOR, lw=1.5)
    ax.axhline(0, color="#555", lw=0.8)
    ax.set_xlabel(labels["epoch"])
    _epochs_axis(ax)
    ax.set_title(labels["title"], loc="left", fontsize=11)
    return _png(fig)


def learning_rate(history: dict, labels: dict) -> bytes | None:
    """The learning rate per epoch, only when it changed."""
    lr = history.get("learning_rate") or history.get("lr")
    if not lr or len({round(float(x), 12) for x in lr}) < 2:
        return None
    fig, ax = _figure(6.4, 2.4)
    ax.semilogy(np.arange(1, len(lr) + 1), lr, color="#6a4fb3", lw=1.8, drawstyle="steps-post")
    ax.set_xlabel(labels["epoch"])
    ax.set_title(labels["title"], loc="left", fontsize=11)
    return _png(fig)


def confusion(matrix: list[list[int]], class_names: list[str], labels: dict) -> bytes:
    """The confusion matrix, rows = true class, columns = predicted."""
    cm = np.array(matrix)
    size = max(4.0, 0.45 * len(class_names) + 2)
    fig, ax = _figure(size, size * 0.9)
    ax.grid(False)
    ax.imshow(cm, cmap="Blues")
    ticks = range(len(class_names))
    ax.set_xticks(ticks, class_names, rotation=45 if len(class_names) > 8 else 0)
    ax.set_yticks(ticks, class_names)
    limit = cm.max() / 2 if cm.size else 0
    for i in range(cm.shape[0]):
        for j in range(cm.shape[1]):
            if cm[i, j]:
                ax.text(
                    j,
                    i,
                    str(cm[i, j]),
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if cm[i, j] > limit else "#222",
                )
    ax.set_xlabel(labels["predicted"])
    ax.set_ylabel(labels["true"])
    ax.set_title(labels["title"], loc="left", fontsize=11)
    return _png(fig)


def mistakes_figure(images: list, captions: list[str], labels: dict):
    """The matplotlib figure of `mistakes` (None without images); titles get their own room above each image."""
    if not images:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = min(8, len(images))
    rows = (len(images) + cols - 1) // cols
    lines = max(caption.count("\n") + 1 for caption in captions)
    # Each row: a 1.2-inch image plus its title lines (7 pt, ~0.14 inch each); constrained layout
    # then keeps every title clear of the row above.
    fig, axes = plt.subplots(
        rows,
        cols,
        figsize=(1.3 * cols, (1.2 + 0.14 * lines + 0.1) * rows + 0.35),
        dpi=110,
        squeeze=False,
        layout="constrained",
    )
    for ax in axes.ravel():
        ax.axis("off")
    for ax, image, caption in zip(axes.ravel(), images, captions, strict=False):
        ax.imshow(image, cmap="gray" if image.ndim == 2 else None)
        ax.set_title(caption, fontsize=7)
    fig.suptitle(labels["title"], x=0.01, ha="left", fontsize=10)
    return fig


def mistakes(images: list, captions: list[str], labels: dict) -> bytes | None:
    """A grid of the images the model gets most wrong, with true and predicted class."""
    fig = mistakes_figure(images, captions, labels)
    return None if fig is None else _png(fig, tight=False)


def counts(per_split: dict[str, dict[str, int]], labels: dict) -> bytes | None:
    """Images per class, one bar group per split."""
    if not per_split:
        return None
    classes = sorted({c for v in per_split.values() for c in v})
    fig, ax = _figure(6.4, 2.8)
    width = 0.8 / len(per_split)
    colors = ["#2f6db5", "#e07b39", "#3a8f3a"]
    for k, (split, values) in enumerate(per_split.items()):
        x = np.arange(len(classes)) + k * width
        ax.bar(x, [values.get(c, 0) for c in classes], width, label=split, color=colors[k % 3])
    ax.set_xticks(np.arange(len(classes)) + 0.4 - width / 2, classes)
    ax.legend(frameon=False, fontsize=8)
    ax.set_title(labels["title"], loc="left", fontsize=11)
    return _png(fig)


def rounds(values: list[float], verdicts: list[str], chosen: int | None, labels: dict) -> bytes | None:
    """Validation accuracy per treatment round, the chosen round highlighted."""
    if not values:
        return None
    fig, ax = _figure(6.4, 2.8)
    x = np.arange(len(values))
    colors = ["#3a8f3a" if i == chosen else "#9bb7d8" for i in x]
    ax.bar(x, values, color=colors)
    for i, (v, verdict) in enumerate(zip(values, verdicts, strict=True)):
        ax.text(i, v, f"{v:.3f}\n{verdict}", ha="center", va="bottom", fontsize=7)
    low = max(0.0, min(values) - 0.05)
    ax.set_ylim(low, min(1.0, max(values) + 0.06))
    ax.set_xticks(x, [f"{labels['round']} {i}" for i in x])
    ax.set_title(labels["title"], loc="left", fontsize=11)
    return _png(fig)
