"""``zksolv market ...``: the oracle's and venue's market-state commands."""

from __future__ import annotations

from pathlib import Path

import click

from zksolv.app.progress import step
from zksolv.cli.common import check_output, emit, handle_errors, json_option, load_market, needs
from zksolv.core.errors import InputError


@click.group()
def market() -> None:
    """Build or commit a market state (the oracle's side).

    \b
    Example:
      $ zksolv market demo --out market.json --portfolios accounts/
      $ zksolv market commit market.json
    """


@market.command("demo")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="where to write the market JSON")
@click.option("--mode", type=click.Choice(["stress", "es", "var", "revaluation"]), default="stress", show_default=True,
              help="revaluation: publish every instrument's full-repricing risk array over the grid")
@click.option("--grid", type=click.Choice(["span", "deribit", "paradex", "horizon", "mc"]), default="span",
              show_default=True, help="scenario grid; mc (revaluation only): the Monte-Carlo set (es always uses it)")
@click.option("--epoch", type=click.IntRange(0, 2**64 - 1), default=None, show_default="20455, 2026-01-02",
              help="the epoch the market state is for (a proof binds to it): the UTC day number it is priced on "
                   "(unix seconds // 86400); the demo prices at the epoch's start")
@click.option("--seed", type=int, default=7, show_default=True,
              help="seed of the demo's price history, volatility surface and market-maker book")
@click.option("--portfolios", type=click.Path(file_okay=False), help="also write the demo accounts into this folder")
@click.option("--tiers", default=None, metavar="N,N,...",
              help="the venue's accepted one-circuit capacities (size privacy; default 4,16,64)")
@click.option("--chunk-sizes", default=None, metavar="N,N,...",
              help="the venue's accepted chunk capacities (default 32,64; large books use the largest)")
@click.option("--chunk-counts", default=None, metavar="N,N,...",
              help="the chunk counts the venue accepts (default 2..1024 in steps of 2^(1/4); "
                   "see `zksolv market padding`)")
@json_option
@handle_errors
def market_demo(out: str, mode: str, grid: str, epoch: int | None, seed: int, portfolios: str | None, tiers: str | None,
                chunk_sizes: str | None, chunk_counts: str | None, as_json: bool) -> None:
    """Write a seeded demo market (BTC, ETH option chains, perps, 4 collateral assets).

    \b
    Example:
      $ zksolv market demo --out market.json --portfolios accounts/
      $ zksolv market demo --out reval.json --mode revaluation --grid mc --tiers 4,16
    """
    needs("prover")
    from dataclasses import replace

    from zksolv.app.demo import DEMO_EPOCH, demo_market, demo_portfolios
    from zksolv.core.commitments import market_root
    from zksolv.core.venue import DEFAULT_POLICY

    check_output(out, folder=False)
    check_output(portfolios, folder=True)
    venue = replace(DEFAULT_POLICY, **{k: v for k, v in (("tiers", _int_list("--tiers", tiers)),
                                                          ("chunk_sizes", _int_list("--chunk-sizes", chunk_sizes)),
                                                          ("chunk_counts", _int_list("--chunk-counts", chunk_counts)))
                                       if v is not None}).validated()
    with step("building demo market"):
        state = replace(demo_market(seed=seed, risk_mode=mode, grid=grid, epoch=DEMO_EPOCH if epoch is None else epoch),
                        venue=venue).validated()
    state.save(out)
    written = []
    if portfolios:
        for name, account in demo_portfolios(state, seed=seed).items():
            path = Path(portfolios) / f"{name}.json"
            account.save(path)
            written.append(str(path))
    emit({"market": out, "epoch": state.epoch, "market_root": str(market_root(state)),
           "instruments": len(state.instruments), "accounts": written}, as_json)


def _int_list(option: str, text: str | None) -> tuple[int, ...] | None:
    """``"4,16,64"`` as integers, or None when the option was not given."""
    if text is None:
        return None
    try:
        return tuple(int(part) for part in text.split(","))
    except ValueError:
        raise InputError(f"{option}: expected comma-separated integers, e.g. 4,16,64") from None


@market.command("commit")
@click.argument("market_path", type=click.Path(exists=True, dir_okay=False))
@json_option
@handle_errors
def market_commit(market_path: str, as_json: bool) -> None:
    """Validate a market state and print its market_root.

    \b
    Example:
      $ zksolv market commit market.json
    """
    from zksolv.core.commitments import market_root

    state = load_market(market_path)
    u, a, k, depth = state.shape
    emit({"epoch": state.epoch, "market_root": str(market_root(state)), "underlyings": u, "collateral": a,
           "scenarios": k, "tree_depth": depth, "risk_mode": state.params.risk_mode.value}, as_json)


@market.command("policy")
@click.argument("market_path", type=click.Path(exists=True, dir_okay=False))
@click.option("--out", required=True, type=click.Path(dir_okay=False), metavar="FILE",
              help="where to write the risk policy JSON (a keeper then passes it to `zksolv verify --policy`)")
@json_option
@handle_errors
def market_policy(market_path: str, out: str, as_json: bool) -> None:
    """Write the risk policy a market applies, for keepers to pin.

    The policy is what the keeper's audit cannot re-derive: AVSL coefficients, confidence level,
    horizon, vol shift, correlation, scenario family and size, haircuts, accepted sizes. Write it
    once from a market you checked against the venue's announcement; `zksolv verify --policy
    policy.json` then refuses any epoch's market that applies another.

    \b
    Example:
      $ zksolv market policy market.json --out policy.json
    """
    from zksolv.core.policy import policy_of, save_policy

    check_output(out, folder=False)
    state = load_market(market_path)
    policy = policy_of(state)
    save_policy(policy, out)
    p = policy["params"]
    emit({"policy": out, "risk_mode": p["risk_mode"], "scenarios": policy["scenarios"], "vol_shift": p["vol_shift"],
          "underlyings": len(policy["underlyings"]), "collateral": len(policy["haircuts"])}, as_json)


@market.command("padding")
@click.argument("market_path", required=False, type=click.Path(exists=True, dir_okay=False))
@click.option("--from", "low", type=click.IntRange(1, 2**20), default=1000, show_default=True,
              help="smallest book (positions) of the range weighed")
@click.option("--to", "high", type=click.IntRange(1, 2**20), default=10000, show_default=True,
              help="largest book (positions) of the range weighed")
@click.option("--steps", default=None, metavar="S,S,...",
              help="also weigh chunk counts 2..1024 spaced by 2^(1/S) for each S (1: powers of two), the "
                   "policy's other fields kept")
@json_option
@handle_errors
def market_padding(market_path: str | None, low: int, high: int, steps: str | None, as_json: bool) -> None:
    """What size privacy costs under a venue policy: buckets against padding.

    For chunked books of --from..--to positions: how many size buckets they fall in (what a
    keeper learns: log2 of that, in bits), and the worst and mean padding (chunk proofs proven
    over chunk proofs needed). Without MARKET_PATH, the default policy.

    \b
    Example:
      $ zksolv market padding market.json
      $ zksolv market padding --from 1000 --to 10000 --steps 1,2,4,8
    """
    from dataclasses import replace

    from zksolv.core.venue import DEFAULT_POLICY, geometric_counts, padding_profile

    if low > high:
        raise InputError(f"--from: {low} is above --to {high}")
    alternatives = _int_list("--steps", steps) or ()
    for s in alternatives:
        if not 1 <= s <= 64:
            raise InputError(f"--steps: {s} must lie in [1, 64]")
    policy = load_market(market_path).venue if market_path else DEFAULT_POLICY
    rows = [("market policy" if market_path else "default policy", policy)]
    rows += [(f"2^(1/{s}) steps", replace(policy, chunk_counts=geometric_counts(s)).validated()) for s in alternatives]
    for name, p in rows:  # the range against each policy's limits, before any work, naming the option
        if high <= p.tiers[-1]:
            raise InputError(f"--to: {high} positions fit the largest tier ({p.tiers[-1]}): no chunked book in "
                             f"{low}..{high}")
        most = p.accepted_counts()[-1]
        if high > p.chunk_size * most:
            raise InputError(f"--to: {high} positions is above the largest size bucket of the "
                             f"{name if name.endswith('policy') else name + ' policy'} ({most} chunks of "
                             f"{p.chunk_size} = {p.chunk_size * most} positions)")
    table = []
    for name, p in rows:
        profile = padding_profile(p, low, high).to_dict()
        del profile["positions"]
        table.append({"policy": name, "chunk_counts": list(p.chunk_counts) if as_json else len(p.chunk_counts),
                      **profile})
    emit({"positions": [low, high], "chunk_size": policy.chunk_size, "policies": table}, as_json)


from zksolv.cli.market_build import market_build  # noqa: E402

market.add_command(market_build)
