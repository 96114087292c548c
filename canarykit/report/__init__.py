"""canarykit.report: plots, the overview figure, HTML reports and notebook display.

The only layer that imports matplotlib, and only inside functions: importing
``canarykit.report`` does not import matplotlib. Figures are built without pyplot (see
:mod:`canarykit.report.style`).

Examples
--------
>>> import sys
>>> import canarykit.report
>>> "matplotlib.pyplot" in sys.modules
False
"""

from canarykit.report.data import ReportData, load_report_data
from canarykit.report.forest import forest_plot
from canarykit.report.looks import LookSeries, evaluate_looks
from canarykit.report.overview import plot_overview
from canarykit.report.plots import (
    error_rate_over_looks,
    fairness_by_group,
    latency_quantiles,
    roc_curves,
)

__all__ = [
    "LookSeries",
    "ReportData",
    "error_rate_over_looks",
    "evaluate_looks",
    "fairness_by_group",
    "forest_plot",
    "latency_quantiles",
    "load_report_data",
    "plot_overview",
    "roc_curves",
]
