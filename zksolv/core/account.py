"""A trader's private account: positions, collateral balances and a salt.

Quantities and balances are fixed-point integers at QTY_SCALE; the salt is a
random BN254 field element that makes the commitment hiding. An ``Account``
names instruments and assets by symbol; resolved against a
:class:`~zksolv.core.market.MarketState` it gives its **holdings** by stable
identity (:meth:`Account.holdings`, what the commitment binds) and the
epoch's private lookup details (:meth:`Account.position_slots`: leaf indices,
:meth:`Account.balances`: the collateral table's order). Every check raises an
:class:`~zksolv.core.errors.InputError` that names the field, never its value.

Lifecycle: a non-zero position in an instrument the epoch no longer lists
(expired, delisted), or a non-zero balance of an asset it no longer accepts,
is refused before anything is computed: the account must be settled and its
new commitment registered. Zero amounts are ignored (never committed). Two
positions in one instrument are refused (merge them).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from zksolv.core import fixedpoint as fp
from zksolv.core.errors import InputError
from zksolv.core.fixedpoint import check_bits, format_fixed, parse_fixed
from zksolv.core.market import MarketState, _Obj, load_json_text, read_text

FORMAT_VERSION = 1


@dataclass(frozen=True)
class Position:
    """A signed quantity (QTY_SCALE) of one instrument, by symbol."""

    instrument: str
    quantity: int


@dataclass(frozen=True)
class Account:
    """Private account data. ``collateral`` maps asset symbol to balance."""

    positions: tuple[Position, ...]
    collateral: dict[str, int]
    salt: int

    @staticmethod
    def new_salt() -> int:
        """A uniformly random field element from the OS CSPRNG."""
        return secrets.randbelow(fp.FIELD_MODULUS)

    # --------------------------------------------------------------- checks
    def validated(self, market: MarketState | None = None) -> "Account":
        """Check widths (and, given a market, that every non-zero holding is listed there)."""
        if len(self.positions) > fp.MAX_BOOK_POSITIONS:
            raise InputError(f"positions: {len(self.positions)} positions exceed the limit of {fp.MAX_BOOK_POSITIONS}")
        seen: set[str] = set()
        for j, pos in enumerate(self.positions):
            if not isinstance(pos.instrument, str) or not pos.instrument:
                raise InputError(f"positions[{j}].instrument: must be a non-empty string")
            if pos.instrument in seen:
                raise InputError(f"positions[{j}].instrument: duplicate position in {pos.instrument!r}")
            seen.add(pos.instrument)
            check_bits(f"positions[{j}].quantity", pos.quantity, fp.QTY_BITS, signed=True)
            if market is not None and pos.quantity != 0:
                _listed(market.instrument_index, pos.instrument, f"positions[{j}].instrument {pos.instrument!r}",
                        "not listed in this market", "if it expired or was delisted, settle the position", market.epoch)
        for sym, bal in self.collateral.items():
            check_bits(f"collateral[{sym!r}]", bal, fp.BALANCE_BITS, signed=False)
            if market is not None and bal != 0:
                _listed(market.collateral_index, sym, f"collateral[{sym!r}]",
                        "not a collateral asset of this market", "if it is no longer accepted, withdraw or convert it",
                        market.epoch)
        if isinstance(self.salt, bool) or not isinstance(self.salt, int) or not 0 <= self.salt < fp.FIELD_MODULUS:
            raise InputError("salt: must be an integer in [0, p) (the BN254 scalar field)")
        return self

    def holdings(self, market: MarketState) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """``(positions, balances)`` by stable identity: ``(instrument_id, q)`` and
        ``(asset_id, amount)``, non-zero only, in canonical (sorted) order — what the
        account commitment binds. ``market`` only translates symbols: any epoch that lists
        every held instrument and asset gives the same holdings."""
        ids, assets = market.instrument_ids, market.asset_ids
        positions = sorted((ids[index], q) for index, q in self.position_slots(market))
        balances = sorted((assets[a], bal) for a, bal in enumerate(self.balances(market)) if bal != 0)
        return positions, balances

    def position_slots(self, market: MarketState) -> list[tuple[int, int]]:
        """``(leaf index in this epoch's listing, quantity)`` per non-zero position, in account order."""
        self.validated(market)
        return [(market.instrument_index(p.instrument), p.quantity) for p in self.positions if p.quantity != 0]

    def balances(self, market: MarketState) -> list[int]:
        """Balance per market collateral asset, in this epoch's table order (0 if none held)."""
        self.validated(market)
        return [self.collateral.get(a.symbol, 0) for a in market.collateral]

    # ----------------------------------------------------------------- JSON
    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT_VERSION,
            "positions": [
                {"instrument": p.instrument, "quantity": format_fixed(p.quantity, fp.QTY_SCALE)} for p in self.positions
            ],
            "collateral": {sym: format_fixed(bal, fp.QTY_SCALE) for sym, bal in self.collateral.items()},
            "salt": hex(self.salt),
        }

    @classmethod
    def from_dict(cls, data: Any) -> "Account":
        root = _Obj("account", data)
        if root.get("format", int) != FORMAT_VERSION:
            raise InputError(f"account.format: unsupported version (this zksolv reads {FORMAT_VERSION})")
        positions = tuple(
            Position(instrument=p.get("instrument", str), quantity=p.fixed("quantity", fp.QTY_SCALE))
            for p in root.objects("positions")
        )
        coll = root.obj("collateral")
        collateral = {str(sym): parse_fixed(f"account.collateral[{sym!r}]", v, fp.QTY_SCALE) for sym, v in coll.data.items()}
        salt_text = root.get("salt", str)
        try:
            salt = int(salt_text, 0)
        except ValueError:
            raise InputError("account.salt: expected a hex (0x...) or decimal integer string") from None
        return cls(positions=positions, collateral=collateral, salt=salt).validated()

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1) + "\n"

    @classmethod
    def from_json(cls, text: str) -> "Account":
        return cls.from_dict(load_json_text(text, "account"))

    def save(self, path: str | Path) -> None:
        """Write the account atomically, readable by the owner only (it is private)."""
        from zksolv.core.atomic import atomic_write_text

        atomic_write_text(Path(path), self.to_json(), mode=0o600)

    @classmethod
    def load(cls, path: str | Path) -> "Account":
        return cls.from_json(read_text(path, "account"))


def _listed(lookup: Callable[[str], int], symbol: str, field: str, what: str, action: str, epoch: int) -> None:
    """Refuse a held symbol that ``lookup`` does not find, saying what has to happen."""
    try:
        lookup(symbol)
    except InputError:
        raise InputError(
            f"{field}: {what} (epoch {epoch}); {action}, then register the account's new commitment with the venue"
        ) from None
