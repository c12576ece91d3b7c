"""``zksolv report --plot``: the margin ratio against each underlying's price, as a PNG.

The data are :class:`zksolv.app.analytics.RatioCurve` s (computed and tested there); this
module only draws them: one subplot per underlying, the static, delta-weighted and AVSL
rules as three curves of NAV / requirement, the requirement (ratio 1), the published
spot and the liquidation prices marked. matplotlib (the ``plots`` extra) is imported
here only, with its Agg backend (no display needed), and the file is written atomically.
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any, Sequence

from zksolv.core import fixedpoint as fp
from zksolv.app.analytics import RatioCurve
from zksolv.core.atomic import atomic_write_bytes
from zksolv.core.errors import ToolchainError

#: Label and line style of each rule's curve.
RULE_STYLES = {
    "static": ("static (10% of gross notional)", {"color": "tab:gray", "linestyle": "--"}),
    "delta_weighted": ("delta-weighted (10% of net delta notional)", {"color": "tab:blue", "linestyle": "-."}),
    "avsl": ("AVSL (the rule proven)", {"color": "tab:red", "linewidth": 2.0}),
}
MISSING_MATPLOTLIB = "--plot needs matplotlib: pip install 'zksolv[plots]'"


def require_matplotlib() -> None:
    """Raise :class:`~zksolv.core.errors.ToolchainError` naming the ``plots`` extra when matplotlib is missing."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise ToolchainError(MISSING_MATPLOTLIB) from None


def _figure(curves: Sequence[RatioCurve]) -> Any:
    """The matplotlib Figure of ``curves`` (Agg canvas, no pyplot global state)."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise ToolchainError(MISSING_MATPLOTLIB) from None

    fig = Figure(figsize=(8.0, 3.6 * max(1, len(curves))), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(max(1, len(curves)), 1, squeeze=False)[:, 0]
    for ax, curve in zip(axes, curves):
        x = [p / fp.PRICE_SCALE for p in curve.prices]
        for rule, (label, style) in RULE_STYLES.items():
            y = [math.nan if r is None else r for r in curve.ratios[rule]]
            ax.plot(x, y, label=label, **style)
        low, high = _y_limits(curve)
        ax.axhspan(low, 1.0, color="tab:red", alpha=0.06, label="below the requirement")
        ax.axhline(1.0, color="black", linewidth=0.8)
        ax.axvline(curve.spot / fp.PRICE_SCALE, color="tab:green", linestyle=":", linewidth=1.0,
                   label=f"spot {curve.spot / fp.PRICE_SCALE:,.2f}")
        for side, price in zip(("down", "up"), curve.liquidation):
            if price is not None:
                ax.axvline(price / fp.PRICE_SCALE, color="tab:red", linestyle=":", linewidth=1.2)
                ax.annotate(f"liquidation {side}\n{price / fp.PRICE_SCALE:,.2f}", (price / fp.PRICE_SCALE, 1.0),
                            xytext=(-4 if side == "down" else 4, 6), textcoords="offset points", fontsize=8,
                            color="tab:red", ha="right" if side == "down" else "left")
        ax.set_ylim(low, high)
        ax.set_title(f"{curve.symbol}: margin ratio as the {curve.symbol} price moves")
        ax.set_xlabel(f"{curve.symbol} price (USD)")
        ax.set_ylabel("NAV / requirement")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7, loc="best")
    return fig


def _y_limits(curve: RatioCurve) -> tuple[float, float]:
    """A y range that shows the AVSL curve around ratio 1 (the simple rules may leave it)."""
    avsl = [r for r in curve.ratios["avsl"] if r is not None and math.isfinite(r)]
    if not avsl:
        return -0.5, 3.0
    low = max(min(min(avsl), 0.0) - 0.25, -3.0)
    high = min(max(max(avsl) * 1.15, 2.0), 20.0)
    return low, high


def render_png(curves: Sequence[RatioCurve]) -> bytes:
    """The PNG bytes of the plot of ``curves``."""
    buffer = io.BytesIO()
    _figure(curves).savefig(buffer, format="png", dpi=110)
    return buffer.getvalue()


def write_plot(curves: Sequence[RatioCurve], path: Path) -> None:
    """Draw ``curves`` and write the PNG to ``path`` atomically (a reader never sees half a file)."""
    atomic_write_bytes(Path(path), render_png(curves))
