"""The venue's own input layout for ``zksolv market build`` (docs/oracle.md), read and written.

Four files; prices and ratios are decimal strings or JSON numbers, parsed exactly at their
fixed-point scale (more digits than the scale are refused); implied vols and closes are model
inputs, read as floats::

    instruments (.csv or .json)  symbol, underlying, kind, strike, expiry, iv, mark
                                 kind: spot | perpetual | future | call | put; strike USD (options);
                                 expiry unix seconds (options, futures); an option gives iv (a
                                 fraction, 0.55 = 55 vol points) or mark (USD per unit), the other
                                 left empty
    underlyings (.json)          [{symbol, spot, iv_atm, iv_put_25d, iv_call_25d,
                                   closes: [daily closes, oldest first] | vol_history: [vols]}]
    collateral (.csv or .json)   symbol, price (USD; empty: the spot of the same-symbol underlying), haircut
    params (.json)               {epoch, valuation_time, risk_mode, grid, alpha, beta, es_level, min_ratio,
                                  horizon_seconds, var_z, vol_shift, correlation, mc_scenarios, venue}
                                 (no seed: a Monte-Carlo set is seeded by the epoch)

Every problem is an :class:`~zksolv.core.errors.InputError` naming the file, the row and the field.
"""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path
from typing import Any

from zksolv.core import fixedpoint as fp
from zksolv.core.errors import InputError
from zksolv.core.market import InstrumentKind, RiskMode, load_json_text, read_text
from zksolv.oracle.build import (
    BuildInputs,
    BuildParams,
    CollateralInput,
    InstrumentInput,
    UnderlyingInput,
)
from zksolv.core.venue import DEFAULT_POLICY, VenuePolicy

__all__ = ["read_inputs", "read_params", "write_inputs", "collateral_record", "Row", "INSTRUMENT_FIELDS", "COLLATERAL_FIELDS"]

INSTRUMENT_FIELDS = ("symbol", "underlying", "kind", "strike", "expiry", "iv", "mark")
COLLATERAL_FIELDS = ("symbol", "price", "haircut")
_MISSING = object()


class Row:
    """One record of an input file, for errors naming ``file``, ``where`` (row / index) and the field."""

    def __init__(self, file: str, where: str, data: Any):
        if not isinstance(data, dict):
            raise InputError(f"{file}: {where}: expected an object, got {type(data).__name__}")
        self.file, self.where, self.data = file, where, data
        sym = data.get("symbol")
        self.label = f"{file}: {where}" + (f" ({sym!r})" if isinstance(sym, str) and sym else "")

    def error(self, key: str, what: str) -> InputError:
        return InputError(f"{self.label}: {key}: {what}")

    def raw(self, key: str, default: Any = _MISSING) -> Any:
        value = self.data.get(key, None)
        if value is None or value == "":
            if default is _MISSING:
                raise self.error(key, "missing")
            return default
        return value

    def text(self, key: str) -> str:
        value = self.raw(key)
        if not isinstance(value, str):
            raise self.error(key, f"expected a string, got {type(value).__name__}")
        return value

    def integer(self, key: str, default: Any = _MISSING) -> Any:
        value = self.raw(key, default)
        if value is default and default is not _MISSING:
            return default
        if isinstance(value, str):
            try:
                value = int(value.strip())
            except ValueError:
                raise self.error(key, f"expected an integer, got {value!r}") from None
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(key, f"expected an integer, got {type(value).__name__}")
        return value

    def fixed(self, key: str, scale: int, default: Any = _MISSING) -> Any:
        value = self.raw(key, default)
        if value is default and default is not _MISSING:
            return default
        try:
            return fp.parse_fixed(key, value, scale)
        except InputError as exc:
            raise InputError(f"{self.label}: {exc}") from None

    def number(self, key: str, default: Any = _MISSING) -> Any:
        value = self.raw(key, default)
        if value is default and default is not _MISSING:
            return default
        try:
            x = float(value) if not isinstance(value, bool) else math.nan
        except (TypeError, ValueError):
            raise self.error(key, f"expected a number, got {value!r}") from None
        if not math.isfinite(x):
            raise self.error(key, "must be a finite number")
        return x

    def positive(self, key: str, scale: int) -> int:
        x = self.fixed(key, scale)
        if x <= 0:
            raise self.error(key, "must be positive")
        return x


def _records(path: str | Path, what: str, fields: tuple[str, ...]) -> list[Row]:
    """Rows of a CSV (header line; rows named by line number) or JSON list (named by index)."""
    text = read_text(path, what)
    name = str(path)
    if str(path).lower().endswith(".csv"):
        reader = csv.DictReader(io.StringIO(text))
        header = reader.fieldnames or []
        missing = [f for f in fields[:3] if f not in header]
        if missing:
            raise InputError(f"{name}: header: missing column(s) {missing} (expected {list(fields)})")
        rows = [Row(name, f"row {n}", dict(r)) for n, r in enumerate(reader, start=2)]
    else:
        data = load_json_text(text, name)
        if not isinstance(data, list):
            raise InputError(f"{name}: expected a JSON list of {what} records")
        rows = [Row(name, f"[{i}]", r) for i, r in enumerate(data)]
    if not rows:
        raise InputError(f"{name}: no {what} records")
    seen: dict[str, str] = {}
    for r in rows:
        sym = r.text("symbol")
        if sym in seen:
            raise r.error("symbol", f"duplicate {sym!r} (first at {seen[sym]})")
        seen[sym] = r.where
    return rows


def _instrument(r: Row) -> InstrumentInput:
    kind_text = r.text("kind")
    try:
        kind = InstrumentKind(kind_text)
    except ValueError:
        raise r.error("kind", f"unknown kind {kind_text!r} (one of {[k.value for k in InstrumentKind]})") from None
    strike = r.positive("strike", fp.PRICE_SCALE) if kind.is_option else 0
    expiry = r.integer("expiry") if kind.is_option or kind is InstrumentKind.FUTURE else 0
    iv = mark = None
    if kind.is_option:
        iv = r.number("iv", None)
        mark = r.fixed("mark", fp.PRICE_SCALE, None)
        if iv is None and mark is None:
            raise r.error("iv", "missing (an option gives its implied vol iv or its mark)")
        if iv is not None and iv <= 0:
            raise r.error("iv", "must be positive")
        if mark is not None and mark <= 0:
            raise r.error("mark", "must be positive")
    return InstrumentInput(symbol=r.text("symbol"), underlying=r.text("underlying"), kind=kind, strike=strike,
                           expiry=expiry, iv=iv, mark=mark)


def _underlying(r: Row) -> UnderlyingInput:
    closes: tuple[float, ...] = ()
    history: tuple[int, ...] = ()
    if "closes" in r.data:
        raw = r.raw("closes")
        if not isinstance(raw, list):
            raise r.error("closes", "expected a list of prices")
        closes = tuple(Row(r.file, f"{r.where}.closes", {"close": x}).number("close") for x in raw)
        if any(c <= 0 for c in closes):
            raise r.error("closes", "every close must be positive")
    elif "vol_history" in r.data:
        raw = r.raw("vol_history")
        if not isinstance(raw, list):
            raise r.error("vol_history", "expected a list of vols")
        history = tuple(Row(r.file, f"{r.where}.vol_history[{i}]", {"vol": x}).fixed("vol", fp.VOL_SCALE)
                        for i, x in enumerate(raw))
    else:
        raise r.error("closes", "missing (a price history per underlying, or its realised-vol history vol_history)")
    return UnderlyingInput(symbol=r.text("symbol"), spot=r.positive("spot", fp.PRICE_SCALE),
                           iv_atm=r.positive("iv_atm", fp.VOL_SCALE), iv_put_25d=r.positive("iv_put_25d", fp.VOL_SCALE),
                           iv_call_25d=r.positive("iv_call_25d", fp.VOL_SCALE), closes=closes, vol_history=history)


def collateral_record(r: Row) -> CollateralInput:
    """A collateral row: price empty for the spot of the same-symbol underlying."""
    price = r.fixed("price", fp.PRICE_SCALE, None)
    if price is not None and price <= 0:
        raise r.error("price", "must be positive")
    haircut = r.fixed("haircut", fp.RATIO_SCALE)
    if not 0 <= haircut <= fp.RATIO_SCALE:
        raise r.error("haircut", "must lie in [0, 1]")
    return CollateralInput(symbol=r.text("symbol"), price=price, haircut=haircut)


def read_params(path: str | Path, *, valuation_time_required: bool = True) -> tuple[BuildParams, Row]:
    """The params file as :class:`BuildParams` (and its raw record, for reader-specific keys)."""
    name = str(path)
    r = Row(name, "params", load_json_text(read_text(path, "params"), name))
    mode_text = r.text("risk_mode") if "risk_mode" in r.data else "stress"
    try:
        mode = RiskMode(mode_text)
    except ValueError:
        raise r.error("risk_mode", f"must be one of {[m.value for m in RiskMode]}") from None
    corr = r.raw("correlation", None)
    if corr is not None:
        if not isinstance(corr, list) or not all(isinstance(row, list) for row in corr):
            raise r.error("correlation", "expected a list of lists (one row per underlying)")
        corr = tuple(tuple(Row(name, f"params.correlation[{i}]", {"x": x}).number("x") for x in row)
                     for i, row in enumerate(corr))
    venue = DEFAULT_POLICY
    if "venue" in r.data:
        try:
            venue = VenuePolicy.from_dict(r.data["venue"]).validated()
        except InputError as exc:
            raise InputError(f"{name}: venue: {exc}") from None
    d = BuildParams(epoch=0, valuation_time=0)
    vt = r.integer("valuation_time") if valuation_time_required else r.integer("valuation_time", 0)
    params = BuildParams(
        epoch=r.integer("epoch"), valuation_time=vt, risk_mode=mode, grid=r.raw("grid", d.grid),
        alpha=r.fixed("alpha", fp.RATIO_SCALE, d.alpha), beta=r.fixed("beta", fp.RATIO_SCALE, d.beta),
        es_level=r.fixed("es_level", fp.RATIO_SCALE, d.es_level),
        min_ratio=r.fixed("min_ratio", fp.RATIO_SCALE, d.min_ratio),
        horizon_seconds=r.integer("horizon_seconds", d.horizon_seconds),
        var_z=r.fixed("var_z", fp.RATIO_SCALE, d.var_z), vol_shift=r.number("vol_shift", d.vol_shift),
        correlation=corr, mc_scenarios=r.integer("mc_scenarios", d.mc_scenarios), venue=venue)
    if r.raw("seed", None) is not None:
        raise r.error("seed", "not an input any more: a Monte-Carlo set is seeded by the epoch (the keeper's audit "
                              "refuses any other seed, so the oracle cannot choose among sets); remove it")
    if not isinstance(params.grid, str):
        raise r.error("grid", "expected a string")
    return params, r


def read_inputs(instruments: str | Path, underlyings: str | Path, collateral: str | Path,
                params: str | Path) -> BuildInputs:
    """Read the venue's four input files (module docstring) into :class:`BuildInputs`."""
    build_params, _ = read_params(params)
    und = tuple(_underlying(r) for r in _records(underlyings, "underlyings", ("symbol",)))
    ins = tuple(_instrument(r) for r in _records(instruments, "instruments", INSTRUMENT_FIELDS))
    coll = tuple(collateral_record(r) for r in _records(collateral, "collateral", COLLATERAL_FIELDS))
    return BuildInputs(params=build_params, underlyings=und, instruments=ins, collateral=coll)


def write_inputs(inputs: BuildInputs, folder: str | Path) -> dict[str, Path]:
    """Write ``inputs`` in the venue's layout (``instruments.csv``, ``underlyings.json``,
    ``collateral.csv``, ``params.json``) into ``folder``; floats are written exactly (``repr``).
    Returns the four paths, keyed like the ``market build`` options."""
    from zksolv.core.atomic import atomic_write_text

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    price, vol, ratio = fp.PRICE_SCALE, fp.VOL_SCALE, fp.RATIO_SCALE
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(INSTRUMENT_FIELDS)
    for i in inputs.instruments:
        w.writerow([i.symbol, i.underlying, i.kind.value, fp.format_fixed(i.strike, price) if i.strike else "",
                    i.expiry or "", "" if i.iv is None else repr(i.iv),
                    "" if i.mark is None else fp.format_fixed(i.mark, price)])
    coll = io.StringIO()
    cw = csv.writer(coll, lineterminator="\n")
    cw.writerow(COLLATERAL_FIELDS)
    for a in inputs.collateral:
        cw.writerow([a.symbol, "" if a.price is None else fp.format_fixed(a.price, price),
                     fp.format_fixed(a.haircut, ratio)])
    unds = []
    for u in inputs.underlyings:
        rec: dict[str, Any] = {"symbol": u.symbol, "spot": fp.format_fixed(u.spot, price),
                               "iv_atm": fp.format_fixed(u.iv_atm, vol), "iv_put_25d": fp.format_fixed(u.iv_put_25d, vol),
                               "iv_call_25d": fp.format_fixed(u.iv_call_25d, vol)}
        if u.closes:
            rec["closes"] = list(u.closes)
        else:
            rec["vol_history"] = [fp.format_fixed(v, vol) for v in u.vol_history]
        unds.append(rec)
    p = inputs.params
    params: dict[str, Any] = {
        "epoch": p.epoch, "valuation_time": p.valuation_time, "risk_mode": p.risk_mode.value, "grid": p.grid,
        "alpha": fp.format_fixed(p.alpha, ratio), "beta": fp.format_fixed(p.beta, ratio),
        "es_level": fp.format_fixed(p.es_level, ratio), "min_ratio": fp.format_fixed(p.min_ratio, ratio),
        "horizon_seconds": p.horizon_seconds, "var_z": fp.format_fixed(p.var_z, ratio), "vol_shift": p.vol_shift,
        "mc_scenarios": p.mc_scenarios, "venue": p.venue.to_dict()}
    if p.correlation is not None:
        params["correlation"] = [list(row) for row in p.correlation]
    paths = {"instruments": folder / "instruments.csv", "underlyings": folder / "underlyings.json",
             "collateral": folder / "collateral.csv", "params": folder / "params.json"}
    atomic_write_text(paths["instruments"], out.getvalue())
    atomic_write_text(paths["underlyings"], json.dumps(unds, indent=1) + "\n")
    atomic_write_text(paths["collateral"], coll.getvalue())
    atomic_write_text(paths["params"], json.dumps(params, indent=1) + "\n")
    return paths
