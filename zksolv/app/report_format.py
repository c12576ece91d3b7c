"""Plain-text tables for ``zksolv report``: the dict of :func:`zksolv.app.analytics.report`, for people.

The figures are the report's exact decimal strings, rounded for reading only (USD to
cents, ratios to three decimals); ``zksolv report --json`` keeps them exact.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any, Sequence

#: How the rules of :func:`zksolv.app.analytics.compare_rules` are named in the tables.
RULE_NAMES = {"static": "static", "delta_weighted": "delta-weighted", "avsl": "AVSL"}


def table(headers: Sequence[str] | None, rows: Sequence[Sequence[str]], *, numeric: Sequence[bool] | None = None,
          indent: int = 2) -> list[str]:
    """Lines of an aligned table: columns two spaces apart, ``numeric`` ones right-aligned
    (default: every column but the first), trailing spaces removed; no header line when
    ``headers`` is None."""
    every = [list(headers)] if headers is not None else []
    every += [list(row) for row in rows]
    if not every:
        return []
    n = len(every[0])
    numeric = [i > 0 for i in range(n)] if numeric is None else list(numeric)
    widths = [max(len(str(cell)) for cell in column) for column in zip(*every)]

    def line(cells: Sequence[str]) -> str:
        parts = [str(c).rjust(w) if right else str(c).ljust(w) for c, w, right in zip(cells, widths, numeric)]
        return (" " * indent + "  ".join(parts)).rstrip()

    return [line(cells) for cells in every]


def _decimal(text: Any) -> Decimal | None:
    if text is None:
        return None
    try:
        return Decimal(str(text))
    except InvalidOperation:
        return None


def usd(text: Any) -> str:
    """``"10719.15565"`` -> ``"10,719.16"``; ``"-"`` for a missing figure."""
    value = _decimal(text)
    return "-" if value is None else f"{value:,.2f}"


def ratio(value: Any) -> str:
    """A ratio to three decimals (``"-"`` when there is none: a zero margin)."""
    return "-" if value is None else f"{float(value):.3f}"


def _number(text: Any, places: int) -> str:
    value = _decimal(text)
    return "-" if value is None else f"{value:,.{places}f}"


def _significant(text: Any, digits: int = 6) -> str:
    value = _decimal(text)
    return "-" if value is None else format(Decimal(f"{float(value):.{digits}g}"), "f")


def _move(price: Any, spot: Any) -> str:
    """``"-8.7 %"``: the move from ``spot`` to ``price``."""
    p, s = _decimal(price), _decimal(spot)
    if p is None or s is None or s == 0:
        return ""
    return f"{float((p - s) / s * 100):+.1f} %"


def _verdict(meets: bool) -> str:
    return "meets the rule" if meets else "LIQUIDATABLE"


def format_report(data: dict[str, Any]) -> str:
    """The report as aligned tables (sections only for what ``data`` has)."""
    out: list[str] = []
    out += [f"Margin under the AVSL rule (risk mode {data['risk_mode']}, epoch {data['epoch']})"]
    out += table(None, [["NAV (USD)", usd(data["nav"])], ["MM_base (USD)", usd(data["mm_base"])],
                        ["MM_AVSL (USD)", usd(data["mm_avsl"])], ["requirement (USD)", usd(data["requirement"])],
                        ["ratio (NAV / MM_AVSL)", ratio(data["margin_ratio"])],
                        ["verdict", "SOLVENT" if data["solvent"] else "LIQUIDATABLE"]])
    greeks = data.get("greeks") or {}
    if greeks:
        out += ["", "Net greeks per underlying"]
        out += table(["underlying", "Delta (units)", "Gamma (units/USD)", "Vega (USD per 1.00 vol)"],
                     [[u, _number(g["delta"], 4), _significant(g["gamma"]), _number(g["vega"], 2)]
                      for u, g in greeks.items()])
    if "liquidation_prices" in data:
        out += ["", "Liquidation prices (USD; that underlying's price alone moves, market fully repriced)"]
        rows = []
        for u, p in data["liquidation_prices"].items():
            rows.append([u, usd(p["spot"]), usd(p["down"]) if p["down"] is not None else "none",
                         _move(p["down"], p["spot"]), usd(p["up"]) if p["up"] is not None else "none",
                         _move(p["up"], p["spot"])])
        out += table(["underlying", "spot", "down", "move", "up", "move"], rows)
        if not data["solvent"]:
            out += ["  at spot: the account is already below the requirement at the published prices"]
        elif any(p["down"] is None or p["up"] is None for p in data["liquidation_prices"].values()):
            out += ["  none: the rule holds from zero up to 10x the spot on that side"]
    modes = data.get("risk_modes") or {}
    if modes:
        out += ["", "AVSL under every risk mode (same book and market data; * the market's mode, what a proof shows)"]
        rows = []
        for mode, m in modes.items():
            name = f"{mode} *" if m.get("proven") else mode
            if "unavailable" in m:
                rows.append([name, "-", "-", "-", "-", "unavailable", m["unavailable"]])
            else:
                rows.append([name, usd(m["mm_base"]), usd(m["mm_avsl"]), usd(m["requirement"]),
                             ratio(m["margin_ratio"]), _verdict(m["solvent"]), m["source"]])
        out += table(["mode", "MM_base", "MM_AVSL", "requirement", "ratio", "verdict", "source"], rows,
                     numeric=[False, True, True, True, True, False, False])
    rules = data.get("comparison") or {}
    if rules:
        out += ["", "Rule comparison (margin in USD; ratio NAV / margin)"]
        rows = [[RULE_NAMES[name], usd(r["margin"]), ratio(r["ratio"]), "liquidate" if r["liquidate"] else "ok"]
                for name, r in rules.items() if name in RULE_NAMES]
        out += table(["rule", "margin", "ratio", "verdict"], rows, numeric=[False, True, True, False])
    out += ["", "Partial liquidation (close at mark until the rule holds again)"]
    out += _partial(data.get("partial_liquidation"), data.get("smallest_uniform_liquidation_fraction"))
    return "\n".join(out)


def _partial(partial: dict[str, Any] | None, uniform: Any) -> list[str]:
    if partial is None:
        return ["  impossible: even closing every position leaves NAV below zero"]
    if not partial["close"]:
        return ["  none needed: the account meets the rule"]
    fraction = _decimal(uniform)
    lines = [f"  method {partial['method']}"
             + ("" if fraction is None else f" (the smallest uniform cut closes {float(fraction) * 100:.2f} % "
                                            "of every position)")]
    lines += table(["instrument", "close"], [[c["instrument"], c["quantity"]] for c in partial["close"]])
    lines += table(None, [["closed notional (USD)", usd(partial["closed_notional"])],
                          ["requirement after (USD)", usd(partial["requirement_after"])]])
    return lines
