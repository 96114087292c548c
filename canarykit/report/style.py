"""Shared look of canarykit plots: arm and status colours, and figure creation without pyplot.

Figures are built as :class:`matplotlib.figure.Figure` objects directly, not through
``pyplot``: nothing is registered globally, nothing needs a display (the Agg canvas renders
them), and a batch job that draws many reports does not accumulate open figures. In Jupyter,
run ``%matplotlib inline`` once (or import ``matplotlib.pyplot``) so that a returned figure
renders as an image.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["ARM_COLOURS", "STATUS_COLOURS", "arm_colour", "new_axes"]

ARM_COLOURS = {"control": "#4c72b0", "canary": "#dd8452", "shadow": "#8172b3"}
STATUS_COLOURS = {
    "pass": "#1a7f37",
    "fail": "#cf222e",
    "inconclusive": "#9a6700",
    "PROCEED": "#1a7f37",
    "STOP": "#cf222e",
    "CONTINUE": "#9a6700",
}
THRESHOLD_COLOUR = "#cf222e"


def arm_colour(arm: str) -> str:
    """Colour of an arm (``control``, ``canary`` or ``shadow``); grey for anything else."""
    return ARM_COLOURS.get(arm, "#555555")


def new_axes(ax: Axes | None, *, figsize: tuple[float, float] = (6.4, 4.2)) -> Axes:
    """``ax`` itself, or the axes of a new pyplot-free figure of ``figsize`` inches."""
    if ax is not None:
        return ax
    from matplotlib.figure import Figure

    figure = Figure(figsize=figsize, layout="constrained")
    return figure.add_subplot()
