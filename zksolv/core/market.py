"""The public market state of one epoch, as the oracle publishes it.

Every number in a :class:`MarketState` is a fixed-point integer at the scale
documented in :mod:`zksolv.core.fixedpoint`; this is what gets committed
(:func:`zksolv.core.commitments.market_root`) and what the circuit computes with.
Quantities derived with floats (Black–Scholes marks and greeks, the V-Scalar,
VaR loadings) are computed once by the oracle (:mod:`zksolv.oracle.build`,
:mod:`zksolv.risk.pricing`) and *published* as integers, so a keeper on any machine
recomputes the same root bit for bit. Quantities derived with integers only
(the absolute price moves of the scenario grid) are recomputed on load, and every
published derived figure is audited on load against its re-derivation
(:meth:`MarketState.audit_derived`, :mod:`zksolv.core.audit`).

JSON: ``MarketState.to_json`` writes decimal strings (exact, human-readable);
``MarketState.from_json`` parses them exactly and validates every field,
raising :class:`~zksolv.core.errors.InputError` that names the field and limit.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, Mapping, Sequence

from zksolv.core import fixedpoint as fp
from zksolv.core.errors import InputError
from zksolv.core import identity
from zksolv.core.fixedpoint import check_bits, check_interval, format_fixed, parse_fixed
from zksolv.core.merkle import depth_for
from zksolv.core.venue import DEFAULT_POLICY, VenuePolicy

FORMAT_VERSION = 1
#: Scale of an option's published implied vol (audit input): :data:`zksolv.core.audit.IV_SCALE`.
_IV_SCALE = 10**12


class InstrumentKind(str, Enum):
    """Instrument kinds; the integer code enters the instrument leaf."""

    SPOT = "spot"
    PERPETUAL = "perpetual"
    FUTURE = "future"
    CALL = "call"
    PUT = "put"

    @property
    def code(self) -> int:
        return _KIND_CODES[self]

    @property
    def is_option(self) -> bool:
        return self in (InstrumentKind.CALL, InstrumentKind.PUT)


#: Pinned codes (they enter every instrument identity, so changing one changes every commitment).
_KIND_CODES = {
    InstrumentKind.SPOT: identity.KIND_SPOT,
    InstrumentKind.PERPETUAL: identity.KIND_PERPETUAL,
    InstrumentKind.FUTURE: identity.KIND_FUTURE,
    InstrumentKind.CALL: identity.KIND_CALL,
    InstrumentKind.PUT: identity.KIND_PUT,
}


class RiskMode(str, Enum):
    """How MM_base is computed (DESIGN §2).

    The greeks modes (``stress``, ``es``, ``var``) price a scenario with the
    delta-gamma-vega approximation of the book's net greeks; ``revaluation``
    sums the oracle's published full-repricing P&L of every instrument per
    scenario (risk arrays, SPAN / portfolio-margin style; only a revaluation
    market publishes them, in its instrument leaves).
    """

    STRESS = "stress"
    ES = "es"
    VAR = "var"
    REVALUATION = "revaluation"

    @property
    def code(self) -> int:
        """The mode's code in the ``params_hash`` header (and the circuits' MODE constant): pinned,
        since it enters every market root. 0..2 are the greeks modes; 3 also fixes the instrument
        leaf format (the long leaf with the risk arrays, docs/fixed_point.md §3)."""
        return _MODE_CODES[self]

    @property
    def is_revaluation(self) -> bool:
        """True for the full-revaluation mode (risk arrays instead of net greeks)."""
        return self is RiskMode.REVALUATION


#: Pinned mode codes (they enter params_hash): never renumber, a new mode takes a new code.
_MODE_CODES = {RiskMode.STRESS: 0, RiskMode.ES: 1, RiskMode.VAR: 2, RiskMode.REVALUATION: 3}


@dataclass(frozen=True)
class Underlying:
    """One underlying: spot, realised-vol history and implied-vol skew inputs.

    Prices at PRICE_SCALE, vols at VOL_SCALE (annualised). ``vol_ema`` is the
    published EMA of ``vol_history``; ``iv_*`` are the 25-delta put, ATM and
    25-delta call implied vols the skew measure is taken from.
    """

    symbol: str
    spot: int
    vol_history: tuple[int, ...]
    vol_ema: int
    iv_atm: int
    iv_put_25d: int
    iv_call_25d: int


@dataclass(frozen=True)
class Instrument:
    """One listed instrument with the oracle's per-unit mark and greeks.

    ``mark`` is the value one unit adds to NAV (micro-USD): the BS price of an
    option, the spot price of a spot asset, and 0 for perpetuals and futures,
    whose P&L is settled into collateral every epoch (mark-to-market).
    ``delta`` at DELTA_SCALE, ``gamma`` at GAMMA_SCALE, ``vega`` at VEGA_SCALE
    (USD per 1.00 vol). ``strike`` (PRICE) and ``expiry`` (unix seconds) are 0
    where they do not apply.

    ``pnl`` is the instrument's risk array, published by revaluation markets only
    (empty otherwise): ``pnl[k]`` is the P&L of one unit under scenario ``k``
    (micro-USD, rounded toward -infinity), by full repricing
    (:mod:`zksolv.risk.revaluation`) at the scan range ``(dS', dsig')`` widened by the AVSL
    factor (:meth:`MarketState.scan_range`): ``dS'[u][k]`` for spot, perpetuals and futures,
    ``floor(1e6 * BS(S + dS', sigma + dsig')) - mark`` for options.
    """

    symbol: str
    underlying: int
    kind: InstrumentKind
    strike: int
    expiry: int
    mark: int
    delta: int
    gamma: int
    vega: int
    pnl: tuple[int, ...] = ()
    #: The implied vol the option was priced at, at :data:`zksolv.core.audit.IV_SCALE` (1e-12): an
    #: audit input published with the state, not committed (0 for linear instruments).
    iv: int = 0


@dataclass(frozen=True)
class CollateralAsset:
    """A collateral asset: price (PRICE_SCALE) and haircut (RATIO_SCALE, 0..1)."""

    symbol: str
    price: int
    haircut: int


@dataclass(frozen=True)
class ScenarioSet:
    """Joint scenarios: ``price_shocks[u][k]`` relative moves (RATIO_SCALE),
    ``vol_shocks[u][k]`` absolute vol changes (VOL_SCALE), ``weights[k]``
    (RATIO_SCALE, summing to exactly RATIO_SCALE; used by ES)."""

    name: str
    price_shocks: tuple[tuple[int, ...], ...]
    vol_shocks: tuple[tuple[int, ...], ...]
    weights: tuple[int, ...]

    @property
    def size(self) -> int:
        return len(self.weights)


@dataclass(frozen=True)
class Params:
    """Risk parameters of the epoch (all ratios at RATIO_SCALE).

    ``v_scalar`` is the published V = alpha*EMA(realised vol) + (1-alpha)*Skew.
    ``var_loadings[u][f]`` (micro-USD per unit of underlying) are
    z * chol(corr)[u][f] * S_u * sigma_u * sqrt(horizon); ``gamma_addon[u]``
    (PRICE^2 scale) is (z * sigma_u * sqrt(horizon) * S_u)^2; ``vega_stress[u]``
    (VOL_SCALE) the vol shock of the VaR vega add-on.
    """

    alpha: int
    beta: int
    v_scalar: int
    risk_mode: RiskMode
    es_level: int
    min_ratio: int
    horizon_seconds: int
    var_z: int
    scenarios: ScenarioSet
    var_loadings: tuple[tuple[int, ...], ...]
    gamma_addon: tuple[int, ...]
    vega_stress: tuple[int, ...]
    #: Audit inputs (published with the state, not committed): the vol shift the scenario grid's vol
    #: shocks and the VaR ``vega_stress`` derive from (a fraction of each underlying's risk vol, at
    #: RATIO_SCALE), and the correlation of the underlyings' returns the VaR loadings (and a
    #: Monte-Carlo set) derive from (U x U, RATIO_SCALE). 0 / () : not published
    #: (:mod:`zksolv.core.audit`, :func:`~zksolv.core.audit.audit_risk_parameters`).
    vol_shift: int = 0
    correlation: tuple[tuple[int, ...], ...] = ()


@dataclass(frozen=True)
class MarketState:
    """Everything public for one epoch. Construct through :meth:`validated`.

    ``venue`` is the venue's size-privacy policy (:mod:`zksolv.core.venue`): published
    with the state, read by provers and keepers, not part of ``market_root``.
    ``valuation_time`` (unix seconds) is the time the options were priced at: with each option's
    ``iv`` the audit input a keeper recomputes every option figure from
    (:mod:`zksolv.core.audit`); published, not committed (0: not published), and bound to the
    committed ``epoch``: within a day of ``epoch * 86400``
    (:func:`zksolv.core.audit.check_valuation_time`).
    """

    epoch: int
    params: Params
    underlyings: tuple[Underlying, ...]
    instruments: tuple[Instrument, ...]
    collateral: tuple[CollateralAsset, ...]
    venue: VenuePolicy = DEFAULT_POLICY
    valuation_time: int = 0
    # lookup caches, filled on first use; init=False so dataclasses.replace never copies a stale one
    _index: dict[str, int] = field(default_factory=dict, init=False, compare=False, repr=False)
    _ids: tuple[int, ...] = field(default=(), init=False, compare=False, repr=False)
    # what validated() already checked on this (frozen) object: 0 nothing, 1 the structure, 2 with the audit
    _checked: int = field(default=0, init=False, compare=False, repr=False)

    # ------------------------------------------------------------------ access
    def instrument_index(self, symbol: str) -> int:
        """Leaf index of an instrument in this epoch's listing; :class:`InputError` if unknown."""
        if not self._index:
            object.__setattr__(self, "_index", {ins.symbol: i for i, ins in enumerate(self.instruments)})
        try:
            return self._index[symbol]
        except KeyError:
            raise InputError(f"instrument {symbol!r}: not listed in this market") from None

    @property
    def instrument_ids(self) -> tuple[int, ...]:
        """Stable identity of each listed instrument, in listing order (:func:`zksolv.core.identity.instrument_id`)."""
        if not self._ids:
            ids = tuple(
                identity.instrument_id(self.underlyings[ins.underlying].symbol, ins.kind.code, ins.strike, ins.expiry,
                                       f"instruments[{i}]")
                for i, ins in enumerate(self.instruments)
            )
            object.__setattr__(self, "_ids", ids)
        return self._ids

    @property
    def asset_ids(self) -> tuple[int, ...]:
        """Stable identity of each collateral asset, in table order (:func:`zksolv.core.identity.asset_id`)."""
        return tuple(identity.asset_id(a.symbol, f"collateral[{i}]") for i, a in enumerate(self.collateral))

    def collateral_index(self, symbol: str) -> int:
        """Index of a collateral asset; :class:`InputError` if unknown."""
        for i, asset in enumerate(self.collateral):
            if asset.symbol == symbol:
                return i
        raise InputError(f"collateral {symbol!r}: not a collateral asset of this market")

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """``(U underlyings, A collateral assets, K scenarios, tree depth)``."""
        return (len(self.underlyings), len(self.collateral), self.params.scenarios.size, self.tree_depth)

    @property
    def group_counts(self) -> tuple[int, ...]:
        """The group counts of the grouped circuits (``_g<G>``) this market accepts: the venue's
        ``groups``, none under the revaluation mode (grouped openings serve the greeks circuits only)."""
        return () if self.params.risk_mode.is_revaluation else self.venue.groups

    @property
    def tree_depth(self) -> int:
        """Depth of the arity-8 (``fixedpoint.MERKLE_ARITY``) instrument tree (at least 1): :func:`zksolv.core.merkle.depth_for`."""
        return depth_for(len(self.instruments))

    def price_moves(self) -> tuple[tuple[int, ...], ...]:
        """Absolute scenario price moves dS[u][k] = r[u][k]*S_u (PRICE_SCALE): the
        integers the circuit sees. The magnitude rounds up, the sign is kept
        (:func:`~zksolv.core.fixedpoint.round_away`), so a published move is never
        smaller than ``r*S`` and ``-r`` gives exactly ``-dS``."""
        shocks = self.params.scenarios.price_shocks
        return tuple(
            tuple(fp.round_away(r * und.spot, fp.RATIO_SCALE) for r in shocks[u])
            for u, und in enumerate(self.underlyings)
        )

    def scan_range(self) -> tuple[tuple[tuple[int, ...], ...], tuple[tuple[int, ...], ...]]:
        """``(moves, vol_shocks)`` a revaluation market reprices its risk arrays at: the published
        moves and vol shocks scaled by the AVSL factor ``1 + V*beta``, magnitudes rounded up, signs
        kept (``dS'[u][k] = round_away(r[u][k] * S_u * (1e12 + V*beta))``, ``dsig'`` likewise).

        The AVSL rule widens the scan instead of multiplying the repriced loss (docs/design.md,
        "Full revaluation"): a linear book's loss scales exactly as ``MM_base * (1 + V*beta)``, a
        convex short book's by at least that, and a long option's stays capped at its premium."""
        p = self.params
        factor = fp.AVSL_ONE + p.v_scalar * p.beta
        moves = tuple(
            tuple(fp.round_away(r * und.spot * factor, fp.RATIO_SCALE * fp.AVSL_ONE) for r in p.scenarios.price_shocks[u])
            for u, und in enumerate(self.underlyings)
        )
        shocks = tuple(tuple(fp.round_away(x * factor, fp.AVSL_ONE) for x in row) for row in p.scenarios.vol_shocks)
        return moves, shocks

    # -------------------------------------------------------------- validation
    def validated(self, *, audit: bool = False) -> "MarketState":
        """Check every field against its bit width and the model's invariants.

        With ``audit`` also :meth:`audit_derived` (V, every ``vol_ema``, the
        scenario grid, the VaR parameters and every option figure recomputed from
        the committed inputs and the published audit inputs). Every published state a keeper
        reads goes through :meth:`from_dict` / :meth:`load`, which always
        audit; the oracle (:func:`zksolv.app.demo.demo_market`) audits before
        publishing. Without ``audit`` only structural checks run (synthetic
        states, e.g. test fixtures with an arbitrary V).

        Returns ``self`` so construction reads ``MarketState(...).validated()``. The state is
        frozen, so the checks run once per object: a second call (the keeper's ``verify_many`` on
        a state :meth:`load` already checked) returns at once.
        """
        level = 2 if audit else 1
        if self._checked >= level:
            return self
        check_bits("epoch", self.epoch, fp.EPOCH_BITS, signed=False)
        check_bits("valuation_time", self.valuation_time, fp.EXPIRY_BITS, signed=False)
        n_u, n_a, n_i = len(self.underlyings), len(self.collateral), len(self.instruments)
        check_interval("underlyings (count)", n_u, 1, fp.MAX_UNDERLYINGS)
        check_interval("collateral (count)", n_a, 1, fp.MAX_COLLATERAL)
        check_interval("instruments (count)", n_i, 1, fp.MERKLE_ARITY**fp.MAX_TREE_DEPTH)
        _check_unique("underlyings", [u.symbol for u in self.underlyings])
        _check_unique("instruments", [i.symbol for i in self.instruments])
        _check_unique("collateral", [a.symbol for a in self.collateral])
        for u, und in enumerate(self.underlyings):
            name = f"underlyings[{u}]"
            identity.symbol_code(und.symbol, f"{name}.symbol")
            check_interval(f"{name}.spot", und.spot, 1, (1 << fp.PRICE_BITS) - 1)
            for h, vol in enumerate(und.vol_history):
                check_bits(f"{name}.vol_history[{h}]", vol, fp.VOL_BITS, signed=False)
            for attr in ("vol_ema", "iv_atm", "iv_put_25d", "iv_call_25d"):
                check_bits(f"{name}.{attr}", getattr(und, attr), fp.VOL_BITS, signed=False)
        for i, ins in enumerate(self.instruments):
            name = f"instruments[{i}]"
            check_interval(f"{name}.underlying", ins.underlying, 0, n_u - 1)
            if not isinstance(ins.kind, InstrumentKind):
                raise InputError(f"{name}.kind: must be one of {[k.value for k in InstrumentKind]}")
            identity.symbol_code(ins.symbol, f"{name}.symbol", identity.DISPLAY_SYMBOL_MAX_BYTES)
            identity.check_contract(ins.kind.code, ins.strike, ins.expiry, name)
            check_bits(f"{name}.mark", ins.mark, fp.PRICE_BITS, signed=False)
            check_bits(f"{name}.delta", ins.delta, fp.DELTA_BITS, signed=True)
            check_bits(f"{name}.gamma", ins.gamma, fp.GAMMA_BITS, signed=True)
            check_bits(f"{name}.vega", ins.vega, fp.VEGA_BITS, signed=True)
            check_bits(f"{name}.iv", ins.iv, 64, signed=False)
            if ins.iv and not ins.kind.is_option:
                raise InputError(f"{name}.iv: only an option publishes an implied vol")
            _check_unit_contract(ins, self.underlyings[ins.underlying].spot, name)
        _check_same_contract(self.instruments, self.instrument_ids)
        for a, asset in enumerate(self.collateral):
            identity.asset_id(asset.symbol, f"collateral[{a}]")
            check_interval(f"collateral[{a}].price", asset.price, 0, (1 << fp.PRICE_BITS) - 1)
            check_interval(f"collateral[{a}].haircut", asset.haircut, 0, fp.RATIO_SCALE)
        self._validate_params(n_u)
        if not isinstance(self.venue, VenuePolicy):
            raise InputError("venue: expected a VenuePolicy")
        self.venue.validated()
        self._validate_risk_arrays()
        if audit:
            self.audit_derived()
        object.__setattr__(self, "_checked", level)
        return self

    def _validate_risk_arrays(self) -> None:
        """A revaluation market publishes one risk array of K entries per instrument, each within
        PNL_BITS and the unit contract's bounds (:func:`_check_risk_array`); any other market none
        (the mode fixes the leaf format, so an array in a greeks market would be ambiguous)."""
        mode = self.params.risk_mode
        if not mode.is_revaluation:
            for i, ins in enumerate(self.instruments):
                if ins.pnl:
                    raise InputError(f"instruments[{i}].pnl: only a revaluation market publishes risk arrays "
                                     f"(this market's risk_mode is {mode.value!r})")
            return
        n_k = self.params.scenarios.size
        moves, _shocks = self.scan_range()
        for u, (und, row) in enumerate(zip(self.underlyings, moves)):
            for k, move in enumerate(row):
                if und.spot + move < 0:
                    raise InputError(f"params.scenarios.price_shocks[{u}][{k}]: a revaluation grid scaled by "
                                     "1 + V*beta may not move a spot below zero (an option cannot be repriced there)")
        for i, ins in enumerate(self.instruments):
            name = f"instruments[{i}].pnl"
            if not isinstance(ins.pnl, tuple):
                raise InputError(f"{name}: expected a tuple of integers, got {type(ins.pnl).__name__}")
            if len(ins.pnl) != n_k:
                raise InputError(f"{name}: expected {n_k} entries (one per scenario), got {len(ins.pnl)}")
            for k, x in enumerate(ins.pnl):
                check_bits(f"{name}[{k}]", x, fp.PNL_BITS, signed=True)
            _check_risk_array(ins, moves[ins.underlying], self.underlyings[ins.underlying].spot, name)

    def audit_derived(self) -> "MarketState":
        """Recompute the published derived vol figures from the inputs they come from.

        * ``params.v_scalar`` must equal
          :func:`zksolv.core.volatility.v_scalar_market` of ``params.alpha`` and each
          underlying's ``vol_ema``, ``iv_put_25d``, ``iv_call_25d`` — all committed
          (header, ``underlyings_hash``), so V is integer-exact: each per-underlying
          ``alpha*EMA + (1-alpha)*|put - call|`` rounded up once to RATIO_SCALE;
        * every underlying publishes its ``vol_history`` and its ``vol_ema`` must equal
          :func:`zksolv.core.volatility.ema_fixed` of it (RiskMetrics lambda 0.94, exact, rounded up;
          :func:`zksolv.core.audit.audit_vol_history`). The history is not committed: it is the
          published evidence the committed EMA is checked against; a market without one is refused;
        * the scenario set (re-derived from its name, the risk vols, ``horizon_seconds`` and the
          published ``vol_shift``, or for a Monte-Carlo set its seed and ``correlation``) and the
          VaR parameters ``var_loadings``, ``gamma_addon``, ``vega_stress`` (from the spots, risk
          vols, ``var_z``, ``horizon_seconds`` and the published ``correlation`` and
          ``vol_shift``), exactly (a Monte-Carlo set within one unit;
          :func:`zksolv.core.audit.audit_risk_parameters`);

        * every option's mark, delta, gamma, vega and risk array, recomputed from the published
          ``valuation_time`` and its ``iv`` (:func:`zksolv.core.audit.audit_options`, pure Python,
          within :data:`zksolv.core.audit.TOLERANCE` fixed-point units).

        Raises :class:`InputError` naming the field, the published and the recomputed value.
        """
        from zksolv.core import volatility  # lazy: keeps ``import zksolv.core.market`` free of numpy
        from zksolv.core.audit import audit_options, audit_risk_parameters, audit_vol_history

        audit_vol_history(self)
        v = volatility.v_scalar_market(self.params.alpha, self.underlyings)
        if self.params.v_scalar != v:
            raise InputError(
                f"params.V: published {format_fixed(self.params.v_scalar, fp.RATIO_SCALE)} != recomputed "
                f"{format_fixed(v, fp.RATIO_SCALE)} from the committed vol inputs"
            )
        audit_risk_parameters(self)
        audit_options(self)
        return self

    def _validate_params(self, n_u: int) -> None:
        p = self.params
        if not isinstance(p.risk_mode, RiskMode):
            raise InputError(f"params.risk_mode: must be one of {[m.value for m in RiskMode]}")
        check_interval("params.alpha", p.alpha, 0, fp.RATIO_SCALE)
        for attr in ("beta", "v_scalar", "min_ratio", "var_z"):
            check_bits(f"params.{attr}", getattr(p, attr), fp.RATIO_BITS, signed=False)
        if p.min_ratio < fp.RATIO_SCALE:
            raise InputError("params.min_ratio: must be at least 1.0 (a smaller ratio weakens the margin rule)")
        check_interval("params.es_level", p.es_level, 0, fp.RATIO_SCALE - 1)
        check_bits("params.horizon_seconds", p.horizon_seconds, fp.EXPIRY_BITS, signed=False)
        sc = p.scenarios
        check_interval("params.scenarios (count)", sc.size, 1, fp.MAX_SCENARIOS)
        _check_matrix("params.scenarios.price_shocks", sc.price_shocks, n_u, sc.size, fp.RATIO_BITS)
        _check_matrix("params.scenarios.vol_shocks", sc.vol_shocks, n_u, sc.size, fp.VOL_BITS)
        for k, w in enumerate(sc.weights):
            check_interval(f"params.scenarios.weights[{k}]", w, 0, fp.RATIO_SCALE)
        if sum(sc.weights) != fp.RATIO_SCALE:
            raise InputError(f"params.scenarios.weights: must sum to exactly {fp.RATIO_SCALE} (1.0)")
        for u, row in enumerate(self.price_moves()):
            for k, move in enumerate(row):
                check_bits(f"params.scenarios.price_shocks[{u}][{k}] (as a price move)", move, fp.PRICE_BITS, signed=True)
        check_bits("params.vol_shift", p.vol_shift, fp.RATIO_BITS, signed=False)
        if p.correlation:
            _check_matrix("params.correlation", p.correlation, n_u, n_u, fp.RATIO_BITS)
            for r, row in enumerate(p.correlation):
                for c, x in enumerate(row):
                    check_interval(f"params.correlation[{r}][{c}]", x, -fp.RATIO_SCALE, fp.RATIO_SCALE)
        _check_matrix("params.var_loadings", p.var_loadings, n_u, n_u, fp.LOADING_BITS)
        _check_vector("params.gamma_addon", p.gamma_addon, n_u, fp.GAMMA_ADDON_BITS)
        _check_vector("params.vega_stress", p.vega_stress, n_u, fp.VOL_BITS)

    # ------------------------------------------------------------------- JSON
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict with exact decimal strings for every fixed-point value."""
        p = self.params
        price, vol, ratio = fp.PRICE_SCALE, fp.VOL_SCALE, fp.RATIO_SCALE
        return {
            "format": FORMAT_VERSION,
            "epoch": self.epoch,
            "params": {
                "alpha": format_fixed(p.alpha, ratio),
                "beta": format_fixed(p.beta, ratio),
                "v_scalar": format_fixed(p.v_scalar, ratio),
                "risk_mode": p.risk_mode.value,
                "es_level": format_fixed(p.es_level, ratio),
                "min_ratio": format_fixed(p.min_ratio, ratio),
                "horizon_seconds": p.horizon_seconds,
                "var_z": format_fixed(p.var_z, ratio),
                "scenarios": {
                    "name": p.scenarios.name,
                    "price_shocks": [[format_fixed(x, ratio) for x in row] for row in p.scenarios.price_shocks],
                    "vol_shocks": [[format_fixed(x, vol) for x in row] for row in p.scenarios.vol_shocks],
                    "weights": [format_fixed(x, ratio) for x in p.scenarios.weights],
                },
                "var_loadings": [[format_fixed(x, price) for x in row] for row in p.var_loadings],
                "gamma_addon": [format_fixed(x, price * price) for x in p.gamma_addon],
                "vega_stress": [format_fixed(x, vol) for x in p.vega_stress],
                **({"vol_shift": format_fixed(p.vol_shift, ratio)} if p.vol_shift else {}),
                **({"correlation": [[format_fixed(x, ratio) for x in row] for row in p.correlation]}
                   if p.correlation else {}),
            },
            "underlyings": [
                {
                    "symbol": u.symbol,
                    "spot": format_fixed(u.spot, price),
                    "vol_history": [format_fixed(v, vol) for v in u.vol_history],
                    "vol_ema": format_fixed(u.vol_ema, vol),
                    "iv_atm": format_fixed(u.iv_atm, vol),
                    "iv_put_25d": format_fixed(u.iv_put_25d, vol),
                    "iv_call_25d": format_fixed(u.iv_call_25d, vol),
                }
                for u in self.underlyings
            ],
            "instruments": [
                {
                    "symbol": i.symbol,
                    "underlying": self.underlyings[i.underlying].symbol,
                    "kind": i.kind.value,
                    "strike": format_fixed(i.strike, price),
                    "expiry": i.expiry,
                    "mark": format_fixed(i.mark, price),
                    "delta": format_fixed(i.delta, fp.DELTA_SCALE),
                    "gamma": format_fixed(i.gamma, fp.GAMMA_SCALE),
                    "vega": format_fixed(i.vega, fp.VEGA_SCALE),
                    **({"pnl": [format_fixed(x, price) for x in i.pnl]} if i.pnl else {}),
                    **({"iv": format_fixed(i.iv, _IV_SCALE)} if i.iv else {}),
                }
                for i in self.instruments
            ],
            "collateral": [
                {"symbol": a.symbol, "price": format_fixed(a.price, price), "haircut": format_fixed(a.haircut, ratio)}
                for a in self.collateral
            ],
            "venue": self.venue.to_dict(),
            **({"valuation_time": self.valuation_time} if self.valuation_time else {}),
        }

    @classmethod
    def from_dict(cls, data: Any) -> "MarketState":
        """Parse and validate; every problem is an :class:`InputError` naming the field."""
        root = _Obj("market", data)
        if root.get("format", int) != FORMAT_VERSION:
            raise InputError(f"market.format: unsupported version (this zksolv reads {FORMAT_VERSION})")
        price, vol, ratio = fp.PRICE_SCALE, fp.VOL_SCALE, fp.RATIO_SCALE
        underlyings = tuple(
            Underlying(
                symbol=u.get("symbol", str),
                spot=u.fixed("spot", price),
                vol_history=tuple(u.fixed_list("vol_history", vol)),
                vol_ema=u.fixed("vol_ema", vol),
                iv_atm=u.fixed("iv_atm", vol),
                iv_put_25d=u.fixed("iv_put_25d", vol),
                iv_call_25d=u.fixed("iv_call_25d", vol),
            )
            for u in root.objects("underlyings")
        )
        und_index = {u.symbol: i for i, u in enumerate(underlyings)}
        instruments = []
        for ins in root.objects("instruments"):
            und = ins.get("underlying", str)
            if und not in und_index:
                raise InputError(f"{ins.path}.underlying: unknown underlying {und!r}")
            kind = ins.get("kind", str)
            try:
                kind_enum = InstrumentKind(kind)
            except ValueError:
                raise InputError(f"{ins.path}.kind: must be one of {[k.value for k in InstrumentKind]}") from None
            instruments.append(
                Instrument(
                    symbol=ins.get("symbol", str),
                    underlying=und_index[und],
                    kind=kind_enum,
                    strike=ins.fixed("strike", price),
                    expiry=ins.get("expiry", int),
                    mark=ins.fixed("mark", price),
                    delta=ins.fixed("delta", fp.DELTA_SCALE),
                    gamma=ins.fixed("gamma", fp.GAMMA_SCALE),
                    vega=ins.fixed("vega", fp.VEGA_SCALE),
                    pnl=tuple(ins.fixed_list("pnl", price)) if "pnl" in ins.data else (),
                    iv=ins.fixed("iv", _IV_SCALE) if "iv" in ins.data else 0,
                )
            )
        collateral = tuple(
            CollateralAsset(symbol=a.get("symbol", str), price=a.fixed("price", price), haircut=a.fixed("haircut", ratio))
            for a in root.objects("collateral")
        )
        p = root.obj("params")
        mode = p.get("risk_mode", str)
        try:
            mode_enum = RiskMode(mode)
        except ValueError:
            raise InputError(f"market.params.risk_mode: must be one of {[m.value for m in RiskMode]}") from None
        sc = p.obj("scenarios")
        params = Params(
            alpha=p.fixed("alpha", ratio),
            beta=p.fixed("beta", ratio),
            v_scalar=p.fixed("v_scalar", ratio),
            risk_mode=mode_enum,
            es_level=p.fixed("es_level", ratio),
            min_ratio=p.fixed("min_ratio", ratio),
            horizon_seconds=p.get("horizon_seconds", int),
            var_z=p.fixed("var_z", ratio),
            scenarios=ScenarioSet(
                name=sc.get("name", str),
                price_shocks=sc.fixed_matrix("price_shocks", ratio),
                vol_shocks=sc.fixed_matrix("vol_shocks", vol),
                weights=tuple(sc.fixed_list("weights", ratio)),
            ),
            var_loadings=p.fixed_matrix("var_loadings", price),
            gamma_addon=tuple(p.fixed_list("gamma_addon", price * price)),
            vega_stress=tuple(p.fixed_list("vega_stress", vol)),
            vol_shift=p.fixed("vol_shift", ratio) if "vol_shift" in p.data else 0,
            correlation=p.fixed_matrix("correlation", ratio) if "correlation" in p.data else (),
        )
        return cls(
            epoch=root.get("epoch", int),
            params=params,
            underlyings=underlyings,
            instruments=tuple(instruments),
            collateral=collateral,
            venue=VenuePolicy.from_dict(root.data["venue"]) if "venue" in root.data else DEFAULT_POLICY,
            valuation_time=root.get("valuation_time", int) if "valuation_time" in root.data else 0,
        ).validated(audit=True)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1) + "\n"

    @classmethod
    def from_json(cls, text: str) -> "MarketState":
        return cls.from_dict(load_json_text(text, "market"))

    def save(self, path: str | Path) -> None:
        """Write the state as JSON, atomically."""
        from zksolv.core.atomic import atomic_write_text

        atomic_write_text(Path(path), self.to_json())

    @classmethod
    def load(cls, path: str | Path) -> "MarketState":
        """Read and validate a market JSON file."""
        return cls.from_json(read_text(path, "market"))


# ------------------------------------------------------------------ helpers
def read_text(path: str | Path, what: str) -> str:
    """Read a UTF-8 file, turning OS errors into :class:`InputError`."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{what} file {str(path)!r}: not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{what} file {str(path)!r}: cannot be read ({type(exc).__name__})") from None


def load_json_text(text: str, what: str) -> Any:
    """``json.loads`` that rejects empty input, NaN/Infinity and bad syntax clearly."""
    if not text.strip():
        raise InputError(f"{what}: empty JSON document")

    def _reject_constant(name: str) -> Any:
        raise InputError(f"{what}: {name} is not allowed in JSON input")

    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise InputError(f"{what}: malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    except InputError:
        raise
    except (ValueError, RecursionError):  # e.g. an integer literal beyond Python's digit limit, absurd nesting
        raise InputError(f"{what}: malformed JSON (a number is too long or the nesting too deep)") from None


class _Obj:
    """A JSON object with its path, for field-naming error messages."""

    def __init__(self, path: str, data: Any):
        if not isinstance(data, Mapping):
            raise InputError(f"{path}: expected a JSON object, got {type(data).__name__}")
        self.path, self.data = path, data

    def _raw(self, key: str) -> Any:
        if key not in self.data:
            raise InputError(f"{self.path}.{key}: missing")
        return self.data[key]

    def get(self, key: str, typ: type) -> Any:
        value = self._raw(key)
        if isinstance(value, bool) or not isinstance(value, typ):
            raise InputError(f"{self.path}.{key}: expected {typ.__name__}, got {type(value).__name__}")
        return value

    def obj(self, key: str) -> "_Obj":
        return _Obj(f"{self.path}.{key}", self._raw(key))

    def objects(self, key: str) -> list["_Obj"]:
        items = self._raw(key)
        if not isinstance(items, list):
            raise InputError(f"{self.path}.{key}: expected a list")
        return [_Obj(f"{self.path}.{key}[{i}]", item) for i, item in enumerate(items)]

    def fixed(self, key: str, scale: int) -> int:
        return parse_fixed(f"{self.path}.{key}", self._raw(key), scale)

    def fixed_list(self, key: str, scale: int) -> list[int]:
        items = self._raw(key)
        if not isinstance(items, list):
            raise InputError(f"{self.path}.{key}: expected a list")
        return [parse_fixed(f"{self.path}.{key}[{i}]", x, scale) for i, x in enumerate(items)]

    def fixed_matrix(self, key: str, scale: int) -> tuple[tuple[int, ...], ...]:
        rows = self._raw(key)
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise InputError(f"{self.path}.{key}: expected a list of lists")
        return tuple(
            tuple(parse_fixed(f"{self.path}.{key}[{i}][{j}]", x, scale) for j, x in enumerate(row))
            for i, row in enumerate(rows)
        )


def _check_unique(name: str, symbols: Sequence[str]) -> None:
    seen: set[str] = set()
    for i, s in enumerate(symbols):
        if not isinstance(s, str) or not s:
            raise InputError(f"{name}[{i}].symbol: must be a non-empty string")
        if s in seen:
            raise InputError(f"{name}[{i}].symbol: duplicate {s!r}")
        seen.add(s)


def _check_unit_contract(ins: Instrument, spot: int, name: str) -> None:
    """The published data must be that of the contract the identity names: one unit of a
    USD-settled linear contract (zksolv.core.identity). A linear instrument's data is fixed by its
    kind; an option's delta lies between 0 and 1 unit with the kind's sign, its gamma and vega
    are not negative. (So a re-listing cannot give an identity another contract's terms, e.g.
    an inverse perpetual under a linear perpetual's identity.)"""
    one = fp.DELTA_SCALE
    if ins.kind in (InstrumentKind.SPOT, InstrumentKind.PERPETUAL, InstrumentKind.FUTURE):
        mark = spot if ins.kind is InstrumentKind.SPOT else 0
        if (ins.mark, ins.delta, ins.gamma, ins.vega) != (mark, one, 0, 0):
            what = "its underlying's spot" if ins.kind is InstrumentKind.SPOT else "0 (settled every epoch)"
            raise InputError(f"{name}: a {ins.kind.value} unit has mark {what}, delta 1, gamma 0 and vega 0")
        return
    lo, hi = (0, one) if ins.kind is InstrumentKind.CALL else (-one, 0)
    if not lo <= ins.delta <= hi:
        raise InputError(f"{name}.delta: a {ins.kind.value}'s delta lies in [{lo}, {hi}] (scale {one})")
    if ins.gamma < 0 or ins.vega < 0:
        raise InputError(f"{name}: an option's gamma and vega are not negative")


def _check_risk_array(ins: Instrument, moves: Sequence[int], spot: int, name: str) -> None:
    """The risk array must be one unit of the contract the identity names (as
    :func:`_check_unit_contract` for the greeks), repriced at the scan range
    (:meth:`MarketState.scan_range`): a linear unit gains exactly the widened move ``dS'[u][k]``;
    an option is worth between its intrinsic value and its bound after the move, the bounds of
    any zero-rate repricing (``max(0, S + dS' - K) <= value <= S + dS'`` for a call,
    ``max(0, K - S - dS') <= value <= K`` for a put), so ``intrinsic - mark <= pnl[k] <= bound - mark``.
    In particular a long option never loses more than its mark (its premium). The intrinsic bound
    is what ties an option's array to the *widened* moves without a pricing model: the circuit
    applies no AVSL factor in this mode (V = 0), so an array repriced at the published grid
    would otherwise certify short options on less margin than the rule
    (``tests/test_adversary_review_reval.py``). Time value is the oracle's to get right."""
    if not ins.kind.is_option:
        for k, (x, move) in enumerate(zip(ins.pnl, moves)):
            if x != move:
                raise InputError(f"{name}[{k}]: a {ins.kind.value} unit gains exactly the scan range's price move "
                                 f"dS * (1 + V*beta) of its underlying in each scenario")
        return
    call = ins.kind is InstrumentKind.CALL
    for k, (x, move) in enumerate(zip(ins.pnl, moves)):
        if x < -ins.mark:
            raise InputError(f"{name}[{k}]: an option loses at most its mark (its value cannot fall below 0)")
        shocked = max(0, spot + move)
        if x < (max(0, shocked - ins.strike) if call else max(0, ins.strike - shocked)) - ins.mark:
            what = "max(0, S + dS' - K)" if call else "max(0, K - S - dS')"
            raise InputError(f"{name}[{k}]: a {ins.kind.value} is worth at least its intrinsic value {what} after "
                             "the scenario (dS' the scan range's move, dS * (1 + V*beta))")
        bound = spot + move if call else ins.strike
        if x > bound - ins.mark:
            what = "the shocked spot S + dS" if call else "its strike"
            raise InputError(f"{name}[{k}]: a {ins.kind.value} is worth at most {what} after the scenario")


def _check_same_contract(instruments: Sequence[Instrument], ids: Sequence[int]) -> None:
    """Two listings of one contract would make its identity ambiguous."""
    first: dict[int, int] = {}
    for i, ident in enumerate(ids):
        if ident in first:
            j = first[ident]
            raise InputError(f"instruments[{i}]: {instruments[i].symbol!r} is the same contract (underlying, kind, "
                             f"strike, expiry) as instruments[{j}] {instruments[j].symbol!r}")
        first[ident] = i


def _check_matrix(name: str, rows: Sequence[Sequence[int]], n_rows: int, n_cols: int, bits: int) -> None:
    if len(rows) != n_rows:
        raise InputError(f"{name}: expected {n_rows} rows (one per underlying), got {len(rows)}")
    for r, row in enumerate(rows):
        if len(row) != n_cols:
            raise InputError(f"{name}[{r}]: expected {n_cols} entries, got {len(row)}")
        for c, x in enumerate(row):
            check_bits(f"{name}[{r}][{c}]", x, bits, signed=True)


def _check_vector(name: str, values: Sequence[int], n: int, bits: int) -> None:
    if len(values) != n:
        raise InputError(f"{name}: expected {n} entries (one per underlying), got {len(values)}")
    for i, x in enumerate(values):
        check_bits(f"{name}[{i}]", x, bits, signed=False)
