"""The venue's risk policy: the market parameters nobody re-derives, pinned by keepers.

The keeper's audit (:mod:`zksolv.core.audit`) re-derives every *derived* figure of a published
market (greeks, risk arrays, grids, VaR parameters, the vol EMA) from its inputs. What remains is
policy: the numbers a venue chooses rather than computes — the AVSL coefficients, the confidence
level and horizon, the vol shift and correlation the grids and VaR loadings derive from, the
scenario family and size, the collateral haircuts, the accepted sizes. An oracle that lowers one
of them lowers every requirement with every derived figure still exact (adversary review round 3:
``vol_shift`` 0.25 -> 0.01 cuts a VaR short-straddle requirement by 61 %; a BTC/ETH correlation
0.8 -> 0.95 halves an ES spread book's), so a keeper pins the policy it agreed to:

    zksolv market policy --market M.json --out policy.json     # once, from a market it checked
    zksolv verify ... --policy policy.json                      # every epoch: refused if it differs

The policy is the same every epoch until the venue changes it (the Monte-Carlo set's seed, the
epoch, is not part of it; its size and family are). Pure Python, no numpy: on the keeper's path.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zksolv.core.atomic import atomic_write_text
from zksolv.core.errors import InputError
from zksolv.core.venue import DEFAULT_POLICY

if TYPE_CHECKING:
    from zksolv.core.market import MarketState

POLICY_FORMAT = 1
#: The fields of ``params`` a venue sets (everything else in ``params`` is derived and audited).
_PARAM_FIELDS = ("alpha", "beta", "risk_mode", "es_level", "min_ratio", "horizon_seconds", "var_z", "vol_shift",
                 "correlation")
_SEED = re.compile(r"-seed[0-9]+$")
#: Why a pin of a market without a ``"venue"`` section (or one without ``chunk_counts``) can stop
#: matching with no change by the venue.
_DEFAULT_SIZES_NOTE = ('a market without a "venue" section (or without "chunk_counts" in it) takes the accepted '
                       "sizes of this zksolv version, which can differ from the version that pinned it (issue 27 "
                       "changed the default chunk counts from the powers of two 2..1024 to 35 counts spaced by "
                       "2^(1/4))")


def policy_of(market: "MarketState") -> dict[str, Any]:
    """The risk policy a published market applies, as JSON-ready data (exact decimal strings)."""
    data = market.to_dict()
    params = data["params"]
    return {
        "format": POLICY_FORMAT,
        "params": {name: params.get(name) for name in _PARAM_FIELDS},
        "scenarios": _SEED.sub("", params["scenarios"]["name"]),
        "underlyings": [u["symbol"] for u in data["underlyings"]],
        "haircuts": {a["symbol"]: a["haircut"] for a in data["collateral"]},
        "venue": data["venue"],
    }


def save_policy(policy: dict[str, Any], path: str | Path) -> None:
    """Write ``policy`` (from :func:`policy_of`) atomically."""
    atomic_write_text(Path(path), json.dumps(policy, indent=1, sort_keys=True) + "\n")


def load_policy(path: str | Path) -> dict[str, Any]:
    """A policy file written by :func:`save_policy`; :class:`InputError` naming the file otherwise."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as exc:
        raise InputError(f"--policy: {path}: not a readable policy file ({type(exc).__name__})") from None
    if not isinstance(data, dict) or data.get("format") != POLICY_FORMAT or not isinstance(data.get("params"), dict):
        raise InputError(f"--policy: {path}: not a zksolv risk policy (format {POLICY_FORMAT}, written by "
                         "`zksolv market policy`)")
    return data


def _differences(published: Any, pinned: Any, where: str) -> list[str]:
    if isinstance(published, dict) and isinstance(pinned, dict):
        out: list[str] = []
        for key in sorted(set(published) | set(pinned), key=str):
            out += _differences(published.get(key), pinned.get(key), f"{where}.{key}")
        return out
    if published != pinned:
        return [f"{where}: {json.dumps(published)} (pinned: {json.dumps(pinned)})"]
    return []


def check_policy(market: "MarketState", pinned: dict[str, Any]) -> None:
    """Refuse (:class:`InputError`, naming every differing field) a market whose risk policy is not
    the ``pinned`` one."""
    diff = _differences(policy_of(market), pinned, "policy")
    if diff:
        why = (" (a changed policy lowers or raises every requirement with every derived figure still exact: "
               "re-pin only a policy the venue announced)")
        if any(d.startswith("policy.venue.chunk_counts:") for d in diff) and \
                market.venue.chunk_counts == DEFAULT_POLICY.chunk_counts:
            why += (f" — the market's chunk counts are the defaults, and {_DEFAULT_SIZES_NOTE}: ask the venue to "
                    "publish its sizes (\"chunk_counts\" in the \"venue\" section of its market JSON), then re-pin "
                    "what it publishes")
        raise InputError(f"market epoch {market.epoch} applies another risk policy than the pinned one: "
                         + "; ".join(diff[:6]) + (f"; and {len(diff) - 6} more" if len(diff) > 6 else "") + why)
