"""Build inputs from Deribit public API responses saved as files (``zksolv market build --deribit DIR``).

``DIR`` holds, per currency ``CUR`` (as passed to the API's ``currency`` parameter: ``BTC``,
``ETH`` for the inverse, coin-settled instruments, ``USDC`` for the linear ones), the whole
JSON-RPC response object of three public methods::

    instruments_<CUR>.json            public/get_instruments            (result: list of instruments)
    book_summary_<CUR>.json           public/get_book_summary_by_currency  (result: list of summaries)
    historical_volatility_<CUR>.json  public/get_historical_volatility  (result: [[timestamp_ms, vol_pct], ...])

The historical volatility is needed for each underlying (base currency) only. Fields used:

* instruments: ``instrument_name``, ``kind`` (``option`` / ``future``; others ignored),
  ``option_type``, ``strike``, ``expiration_timestamp`` (ms), ``is_active``, ``base_currency``,
  ``settlement_period`` (``perpetual``), ``instrument_type`` (``reversed`` = inverse, ``linear``);
* book summaries: ``instrument_name``, ``mark_price``, ``underlying_price``,
  ``estimated_delivery_price`` (the index), and the response's ``usOut`` (µs) as the snapshot time;
* historical volatility: the latest ``params.history_points`` (default 30) values, percent.

Conversions: an inverse option's ``mark_price`` is in coin, its USD mark is
``mark_price * underlying_price`` (the price the response carries for it); a linear option's is
already USD(C) and taken at par. The underlying's spot is the index (``estimated_delivery_price``)
of its first summary. Options are priced at that spot with zero rates, so the implied vol
published is the one that reproduces the USD mark at the index (not Deribit's ``mark_iv``, which
is taken against the forward). Futures and perpetuals are listed with mark 0 (settled each
epoch). Left out and counted (``BuildInputs.skipped``): inactive instruments, instruments expired
at the valuation time, instruments without a book summary, and a listing of a contract already
listed (e.g. a linear future on the same underlying and expiry as an inverse one: zksolv names a
contract by underlying, kind, strike and expiry). The skew inputs (ATM, 25-delta put and call
vols) are read off the smile of the expiry nearest ``params.skew_days`` (default 30) days,
interpolated linearly in call delta.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from zksolv.core import fixedpoint as fp
from zksolv.core.audit import bs_greeks, implied_total_vol
from zksolv.core.errors import InputError
from zksolv.core.market import InstrumentKind, load_json_text, read_text
from zksolv.oracle.build import BuildInputs, InstrumentInput, UnderlyingInput
from zksolv.oracle.inputs import Row, collateral_record, read_params

__all__ = ["read_deribit", "ENDPOINTS"]

#: file prefix -> the API method whose whole response it holds
ENDPOINTS = {
    "instruments": "public/get_instruments",
    "book_summary": "public/get_book_summary_by_currency",
    "historical_volatility": "public/get_historical_volatility",
}


def _response(path: Path, prefix: str) -> tuple[list[Any], dict[str, Any]]:
    """The ``result`` list of a saved JSON-RPC response, checked to be of the right endpoint."""
    name = str(path)
    data = load_json_text(read_text(path, f"Deribit {ENDPOINTS[prefix]} response"), name)
    if not isinstance(data, dict) or data.get("jsonrpc") != "2.0":
        raise InputError(f"{name}: not a JSON-RPC 2.0 response object (save the whole response of {ENDPOINTS[prefix]})")
    if data.get("error") is not None:
        err = data["error"]
        msg = err.get("message") if isinstance(err, dict) else err
        raise InputError(f"{name}: error: the response carries an error ({msg!r}), not a result")
    result = data.get("result")
    if not isinstance(result, list):
        raise InputError(f"{name}: result: expected a list (the response of {ENDPOINTS[prefix]})")
    required = {"instruments": ("instrument_name", "expiration_timestamp"),
                "book_summary": ("instrument_name", "mark_price")}.get(prefix)
    for i, row in enumerate(result):
        if prefix == "historical_volatility":
            if not (isinstance(row, list) and len(row) == 2) and not (isinstance(row, dict) and "value" in row):
                raise InputError(f"{name}: result[{i}]: expected [timestamp, volatility] (the response of "
                                 f"{ENDPOINTS[prefix]}): wrong endpoint?")
        elif not isinstance(row, dict) or any(k not in row for k in required or ()):
            missing = [k for k in required or () if not isinstance(row, dict) or k not in row]
            raise InputError(f"{name}: result[{i}]: missing {missing}: not a response of {ENDPOINTS[prefix]} "
                             "(wrong endpoint?)")
    return result, data


def _currencies(folder: Path) -> list[str]:
    if not folder.is_dir():
        raise InputError(f"--deribit {str(folder)!r}: not a folder")
    curs = sorted(p.name[len("instruments_"):-len(".json")] for p in folder.glob("instruments_*.json"))
    if not curs:
        raise InputError(f"{folder}: no instruments_<CUR>.json (the response of public/get_instruments)")
    return curs


def _interp(points: list[tuple[float, float]], x: float) -> float:
    """Linear interpolation of ``(x, y)`` points sorted by x, flat beyond the ends."""
    if x <= points[0][0]:
        return points[0][1]
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        if x <= x1:
            return y0 + (y1 - y0) * (x - x0) / (x1 - x0) if x1 > x0 else y1
    return points[-1][1]


def _skew(symbol: str, spot: int, options: list[InstrumentInput], vt: int, skew_days: float) -> tuple[int, int, int]:
    """``(iv_atm, iv_put_25d, iv_call_25d)`` (VOL_SCALE) from the OTM smile of the expiry nearest ``skew_days``."""
    if not options:
        raise InputError(f"underlying {symbol!r}: no live options to read the skew inputs (ATM, 25-delta vols) from")
    target = vt + skew_days * 86_400
    expiry = min({o.expiry for o in options}, key=lambda e: (abs(e - target), e))
    s = spot / fp.PRICE_SCALE
    points = []
    for o in options:
        if o.expiry != expiry or o.mark is None:
            continue
        k = o.strike / fp.PRICE_SCALE
        call = o.kind is InstrumentKind.CALL
        if (call and k < s) or (not call and k >= s):
            continue  # out-of-the-money quotes only
        sqrt_tau = math.sqrt((expiry - vt) / fp.SECONDS_PER_YEAR)
        w = implied_total_vol(s, k, o.mark / fp.PRICE_SCALE, call, name=f"instrument {o.symbol!r}.mark")
        _v, delta, _g, _vega = bs_greeks(s, k, w, sqrt_tau, call)
        points.append((delta + 1.0 if not call else delta, w / sqrt_tau))  # as call delta
    if len(points) < 2:
        raise InputError(f"underlying {symbol!r}: fewer than 2 out-of-the-money options at the expiry nearest "
                         f"{skew_days} days to read the skew from")
    points.sort()
    return tuple(fp.from_float(_interp(points, d), fp.VOL_SCALE) for d in (0.5, 0.75, 0.25))  # type: ignore[return-value]


def read_deribit(folder: str | Path, params_path: str | Path) -> BuildInputs:
    """Read a folder of saved Deribit responses and a params file (``collateral`` table inside it,
    ``valuation_time`` optional: default the latest ``usOut`` of the book summaries) into
    :class:`BuildInputs`."""
    folder = Path(folder)
    params, prow = read_params(params_path, valuation_time_required=False)
    curs = _currencies(folder)
    listed: list[tuple[str, dict[str, Any]]] = []
    summaries: dict[str, tuple[str, dict[str, Any]]] = {}
    snapshot = 0
    for cur in curs:
        ins_path, book_path = folder / f"instruments_{cur}.json", folder / f"book_summary_{cur}.json"
        rows, _ = _response(ins_path, "instruments")
        listed += [(str(ins_path), r) for r in rows]
        book, resp = _response(book_path, "book_summary")
        if isinstance(resp.get("usOut"), int):
            snapshot = max(snapshot, resp["usOut"] // 1_000_000)
        for r in book:
            summaries[r["instrument_name"]] = (str(book_path), r)
    vt = params.valuation_time or snapshot
    if vt <= 0:
        raise InputError(f"{params_path}: valuation_time: missing (and no usOut in the book summary responses)")
    skipped = {"inactive": 0, "expired": 0, "no_book_summary": 0, "same_contract": 0, "other_kind": 0}
    spots: dict[str, int] = {}
    instruments: list[InstrumentInput] = []
    contracts: set[tuple[str, str, int, int]] = set()
    seen: set[str] = set()
    for file, raw in listed:
        r = Row(file, f"instrument {raw.get('instrument_name')!r}", raw)
        sym = r.text("instrument_name")
        kind_text = r.text("kind")
        if kind_text not in ("option", "future"):
            skipped["other_kind"] += 1
            continue
        if sym in seen:
            raise r.error("instrument_name", "duplicate")
        seen.add(sym)
        if raw.get("is_active") is False:
            skipped["inactive"] += 1
            continue
        perpetual = raw.get("settlement_period") == "perpetual"
        expiry = 0 if perpetual else r.integer("expiration_timestamp") // 1000
        if not perpetual and expiry <= vt:
            skipped["expired"] += 1
            continue
        if sym not in summaries:
            skipped["no_book_summary"] += 1
            continue
        bfile, braw = summaries[sym]
        b = Row(bfile, f"instrument {sym!r}", braw)
        base = r.text("base_currency")
        if base not in spots:
            index = b.number("estimated_delivery_price", None) or b.number("underlying_price")
            if index <= 0:
                raise b.error("estimated_delivery_price", "must be positive")
            spots[base] = fp.from_float(index, fp.PRICE_SCALE)
        if kind_text == "future":
            kind = InstrumentKind.PERPETUAL if perpetual else InstrumentKind.FUTURE
            ins = InstrumentInput(symbol=sym, underlying=base, kind=kind, expiry=expiry)
            strike = 0
        else:
            opt = r.text("option_type")
            if opt not in ("call", "put"):
                raise r.error("option_type", f"unknown {opt!r} (call or put)")
            strike = fp.from_float(r.number("strike"), fp.PRICE_SCALE)
            if strike <= 0:
                raise r.error("strike", "must be positive")
            mark_price = b.number("mark_price")
            if mark_price <= 0:
                raise b.error("mark_price", "must be positive")
            inverse = r.raw("instrument_type", "reversed") == "reversed"
            if inverse:
                underlying_price = b.number("underlying_price")
                if underlying_price <= 0:
                    raise b.error("underlying_price", "must be positive")
                usd = mark_price * underlying_price
            else:
                usd = mark_price
            ins = InstrumentInput(symbol=sym, underlying=base, kind=InstrumentKind(opt), strike=strike, expiry=expiry,
                                  mark=fp.from_float(usd, fp.PRICE_SCALE))
        contract = (base, ins.kind.value, strike, expiry)
        if contract in contracts:
            skipped["same_contract"] += 1
            continue
        contracts.add(contract)
        instruments.append(ins)
    if not instruments:
        raise InputError(f"{folder}: no live instrument with a book summary")
    points = prow.integer("history_points", 30)
    skew_days = prow.number("skew_days", 30.0)
    underlyings = []
    for base in sorted(spots):
        path = folder / f"historical_volatility_{base}.json"
        hv, _ = _response(path, "historical_volatility")
        values = [row[1] if isinstance(row, list) else row["value"] for row in hv]
        if len(values) < max(2, points):
            raise InputError(f"{path}: result: {len(values)} value(s) is too short for the EMA (history_points = "
                             f"{points})")
        history = tuple(Row(str(path), f"result[{len(values) - points + i}]", {"value": v}).number("value")
                        for i, v in enumerate(values[-points:]))
        if any(v <= 0 for v in history):
            raise InputError(f"{path}: result: every volatility must be positive")
        atm, put25, call25 = _skew(base, spots[base], [o for o in instruments if o.underlying == base and o.kind.is_option],
                                   vt, skew_days)
        underlyings.append(UnderlyingInput(symbol=base, spot=spots[base], iv_atm=atm, iv_put_25d=put25,
                                           iv_call_25d=call25,
                                           vol_history=tuple(fp.from_float(v / 100.0, fp.VOL_SCALE) for v in history)))
    raw_coll = prow.raw("collateral")
    if not isinstance(raw_coll, list) or not raw_coll:
        raise prow.error("collateral", "expected a non-empty list of {symbol, price, haircut}")
    collateral = tuple(collateral_record(Row(str(params_path), f"collateral[{i}]", c)) for i, c in enumerate(raw_coll))
    from dataclasses import replace

    return BuildInputs(params=replace(params, valuation_time=vt), underlyings=tuple(underlyings),
                       instruments=tuple(instruments), collateral=collateral,
                       skipped={k: v for k, v in skipped.items() if v})
