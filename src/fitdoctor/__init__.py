"""fitdoctor: your model will fit.

Dataset tools, Keras training from a small spec, diagnosis of overfitting and
underfitting from the curves, and treatment in a closed loop. TensorFlow is imported
only when something that trains is used.

Example:
    >>> import fitdoctor
    >>> fitdoctor.diagnose({"loss": [1.0, 0.5, 0.3], "val_loss": [1.0, 0.6, 0.5]}).verdict in fitdoctor.VERDICTS
    True
"""

from __future__ import annotations

__version__ = "0.1.0"

_LAZY = {
    "diagnose": ("fitdoctor.diagnosis.engine", "diagnose"),
    "Diagnosis": ("fitdoctor.diagnosis.engine", "Diagnosis"),
    "Finding": ("fitdoctor.diagnosis.findings", "Finding"),
    "VERDICTS": ("fitdoctor.diagnosis.findings", "VERDICTS"),
    "FitDoctor": ("fitdoctor.training.callback", "FitDoctor"),
    "train": ("fitdoctor.training.run", "train"),
    "fix": ("fitdoctor.treatment.loop", "fix"),
    "lr_find": ("fitdoctor.training.lr_find", "lr_find"),
    "LRFinder": ("fitdoctor.training.lr_find", "LRFinder"),
    "report": ("fitdoctor.report", None),  # the package is callable: fitdoctor.report(run_dir)
    "Report": ("fitdoctor.report.html", "Report"),
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        loaded = importlib.import_module(module)
        return loaded if attr is None else getattr(loaded, attr)
    raise AttributeError(f"module 'fitdoctor' has no attribute {name!r}")
