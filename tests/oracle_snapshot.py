"""A Deribit-format snapshot written from a documented smile (tests and benchmarks).

The smile is the demo's (:func:`zksolv.app.demo.smile_vol`, Malz quadratic in delta through the ATM and
25-delta quotes of BTC 55/61/53 and ETH 68/75/66 vol points); every option's mark is its zero-rate
Black-Scholes value at the index, written as Deribit writes it: an inverse (coin-settled) option's
``mark_price`` in coin (value / underlying_price, 8 decimals), a linear (USDC) option's in USDC.
"""

from __future__ import annotations

import json
import math
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from zksolv.core.audit import bs_value
from zksolv.app.demo import smile_vol

SPOTS = {"BTC": (65_000.0, 0.55, 0.61, 0.53, 500.0), "ETH": (3_400.0, 0.68, 0.75, 0.66, 25.0)}
WEEKS = (1, 2, 4, 13)
HOUR8 = 8 * 3600


def _code(ts: int) -> str:
    d = datetime.fromtimestamp(ts, tz=timezone.utc)
    return f"{d.day}{d.strftime('%b').upper()}{d.strftime('%y')}"


def _response(result: Any, us: int) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": 1, "result": result, "usIn": us - 1500, "usOut": us, "usDiff": 1500, "testnet": False}


def write_snapshot(folder: Path, valuation_time: int, *, n_strikes: int = 9) -> dict[str, dict[str, Any]]:
    """Write instruments_/book_summary_ files for BTC, ETH (inverse) and USDC (linear), and
    historical_volatility_ files for BTC and ETH. Returns the book summary row per instrument name.

    Extras that the builder must leave out and count: one option expired before the valuation
    time, one inactive option, and ``BTC_USDC-PERPETUAL`` (the same contract as ``BTC-PERPETUAL``).
    """
    folder.mkdir(parents=True, exist_ok=True)
    us = valuation_time * 1_000_000
    files: dict[str, tuple[list[Any], list[Any]]] = {"BTC": ([], []), "ETH": ([], []), "USDC": ([], [])}
    rows: dict[str, dict[str, Any]] = {}

    def add(cur: str, ins: dict[str, Any], mark_price: float, underlying_price: float, index: float) -> None:
        base = {"is_active": True, "creation_timestamp": (valuation_time - 90 * 86_400) * 1000, "tick_size": 0.0001,
                "contract_size": 1.0, "settlement_currency": cur if cur != "USDC" else "USDC",
                "quote_currency": cur if cur != "USDC" else "USDC", "counter_currency": "USD" if cur != "USDC" else "USDC"}
        base.update(ins)
        files[cur][0].append(base)
        row = {"instrument_name": ins["instrument_name"], "mark_price": mark_price, "underlying_price": underlying_price,
               "underlying_index": "index_price", "estimated_delivery_price": index, "base_currency": ins["base_currency"],
               "quote_currency": base["quote_currency"], "mark_iv": None, "open_interest": 10.0, "volume": 1.0,
               "creation_timestamp": valuation_time * 1000, "bid_price": None, "ask_price": None, "mid_price": None,
               "last": None, "high": None, "low": None, "price_change": None, "volume_usd": 0.0, "interest_rate": 0.0}
        files[cur][1].append(row)
        rows[ins["instrument_name"]] = row

    for sym, (spot, atm, put25, call25, tick) in SPOTS.items():
        perp = {"instrument_name": f"{sym}-PERPETUAL", "kind": "future", "base_currency": sym, "settlement_period": "perpetual",
                "instrument_type": "reversed", "expiration_timestamp": 32503708800000}
        add(sym, perp, spot, spot, spot)
        fut_exp = valuation_time + 13 * 7 * 86_400 + HOUR8
        add(sym, {"instrument_name": f"{sym}-{_code(fut_exp)}", "kind": "future", "base_currency": sym,
                  "settlement_period": "month", "instrument_type": "reversed", "expiration_timestamp": fut_exp * 1000},
            spot, spot, spot)
        for n, w in enumerate(WEEKS):
            exp = valuation_time + 7 * 86_400 * w + HOUR8
            tau = (exp - valuation_time) / (365 * 86_400)
            half = n_strikes // 2
            step = max(0.02, 0.3 * atm * math.sqrt(tau))
            strikes = sorted({round(spot * math.exp(j * step) / tick) * tick for j in range(-half, n_strikes - half)})
            for k in strikes:
                vol = smile_vol(k, spot, tau, atm, put25, call25)
                for opt, letter in (("call", "C"), ("put", "P")):
                    value = bs_value(spot, k, vol * math.sqrt(tau), opt == "call")
                    linear = n == 1 and sym == "BTC"  # the 2-week BTC expiry is listed as linear USDC options
                    name = f"{sym}_USDC-{_code(exp)}-{int(k)}-{letter}" if linear else f"{sym}-{_code(exp)}-{int(k)}-{letter}"
                    ins = {"instrument_name": name, "kind": "option", "option_type": opt, "strike": float(k),
                           "base_currency": sym, "settlement_period": "week", "expiration_timestamp": exp * 1000,
                           "instrument_type": "linear" if linear else "reversed"}
                    if linear:
                        add("USDC", ins, round(value, 4), spot, spot)
                    else:
                        add(sym, ins, round(value / spot, 8), spot, spot)
    # left out and counted
    gone = valuation_time - 86_400 + HOUR8
    add("BTC", {"instrument_name": f"BTC-{_code(gone)}-65000-C", "kind": "option", "option_type": "call", "strike": 65000.0,
                "base_currency": "BTC", "settlement_period": "day", "expiration_timestamp": gone * 1000,
                "instrument_type": "reversed"}, 0.0001, 65_000.0, 65_000.0)
    later = valuation_time + 7 * 86_400 + HOUR8
    add("ETH", {"instrument_name": f"ETH-{_code(later)}-9000-C", "kind": "option", "option_type": "call", "strike": 9000.0,
                "base_currency": "ETH", "settlement_period": "week", "expiration_timestamp": later * 1000,
                "instrument_type": "reversed", "is_active": False}, 0.0001, 3_400.0, 3_400.0)
    add("USDC", {"instrument_name": "BTC_USDC-PERPETUAL", "kind": "future", "base_currency": "BTC",
                 "settlement_period": "perpetual", "instrument_type": "linear", "expiration_timestamp": 32503708800000},
        65_000.0, 65_000.0, 65_000.0)
    for cur, (instruments, book) in files.items():
        (folder / f"instruments_{cur}.json").write_text(json.dumps(_response(instruments, us)))
        (folder / f"book_summary_{cur}.json").write_text(json.dumps(_response(book, us)))
    for sym, (_spot, atm, *_rest) in SPOTS.items():
        hv = [[(valuation_time - 3600 * (40 - i)) * 1000, round(100 * atm * (0.9 + 0.005 * i), 6)] for i in range(40)]
        (folder / f"historical_volatility_{sym}.json").write_text(json.dumps(_response(hv, us)))
    return rows


def write_params(path: Path, **overrides: Any) -> Path:
    """A Deribit build's params file: stress mode over the SPAN grid, 4 collateral assets."""
    params: dict[str, Any] = {
        "epoch": 20_455, "risk_mode": "stress", "grid": "span", "alpha": "0.6", "beta": "0.5", "var_z": "2.326",
        "correlation": [[1.0, 0.8], [0.8, 1.0]],
        "collateral": [{"symbol": "USDC", "price": "1", "haircut": "0"}, {"symbol": "USDT", "price": "1", "haircut": "0.02"},
                       {"symbol": "BTC", "price": None, "haircut": "0.1"}, {"symbol": "ETH", "price": None, "haircut": "0.15"}],
    }
    params.update(overrides)
    path.write_text(json.dumps(params))
    return path
