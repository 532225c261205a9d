"""The report: plots (matplotlib), notebook cards and one self-contained HTML page per run.

The package itself is callable, so `fitdoctor.report(run_dir)` builds the report of a run
(`fitdoctor.report.html.report`): a notebook shows it inline, `.save()` writes the file.
"""

import sys
import types


class _CallableModule(types.ModuleType):
    def __call__(self, run_dir, lang=None):
        """`fitdoctor.report(run_dir, lang=None)`: the `Report` of a run (see `fitdoctor.report.html.report`)."""
        from fitdoctor.report.html import report

        return report(run_dir, lang)


sys.modules[__name__].__class__ = _CallableModule
