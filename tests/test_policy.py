"""The venue's risk policy a keeper pins (zksolv.core.policy, `zksolv market policy`, `verify --policy`,
the keeper daemon's --policy): the same for every epoch of an unchanged venue, and any policy field an
oracle changes is refused, named."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from zksolv.app.demo import DEMO_EPOCH, demo_inputs
from zksolv.cli import EXIT_INPUT, main
from zksolv.core.errors import InputError
from zksolv.core.policy import check_policy, load_policy, policy_of, save_policy
from zksolv.oracle.build import build_market


def _market(mode: str = "es", epoch: int = DEMO_EPOCH, **params):
    inputs = demo_inputs(7, mode, "span", epoch, n_strikes=3, n_expiries=2)
    if params:
        inputs = dataclasses.replace(inputs, params=dataclasses.replace(inputs.params, **params))
    return build_market(inputs)


def test_the_policy_is_the_same_next_epoch() -> None:
    """An ES market's Monte-Carlo set is seeded by its epoch: the policy keeps its family and size only,
    so the next day's market of the same venue passes the pin."""
    today, tomorrow = _market("es"), _market("es", DEMO_EPOCH + 1)
    assert today.params.scenarios.name != tomorrow.params.scenarios.name
    assert policy_of(today) == policy_of(tomorrow)
    check_policy(tomorrow, policy_of(today))
    assert policy_of(today)["scenarios"] == today.params.scenarios.name.split("-seed")[0]


@pytest.mark.parametrize("field, change, needle", [
    ("vol_shift", 0.2, "policy.params.vol_shift"),
    ("beta", 100_000, "policy.params.beta"),
    ("horizon_seconds", 3_600, "policy.params.horizon_seconds"),
])
def test_a_changed_policy_parameter_is_refused_and_named(field: str, change: object, needle: str) -> None:
    pinned = policy_of(_market("var"))
    changed = _market("var", **{field: change})
    with pytest.raises(InputError, match=needle.replace(".", r"\.")):
        check_policy(changed, pinned)


def test_a_changed_haircut_or_venue_size_is_refused() -> None:
    market = _market("stress")
    pinned = policy_of(market)
    asset = market.collateral[-1]
    cheaper = dataclasses.replace(market, collateral=(*market.collateral[:-1],
                                                      dataclasses.replace(asset, haircut=asset.haircut // 2)))
    with pytest.raises(InputError, match=rf"policy\.haircuts\.{asset.symbol}: "):
        check_policy(cheaper, pinned)
    bigger = dataclasses.replace(market, venue=dataclasses.replace(market.venue, tiers=(*market.venue.tiers, 512)))
    with pytest.raises(InputError, match=r"policy\.venue\.tiers: "):
        check_policy(bigger, pinned)


def test_policy_file_round_trip_and_bad_files(tmp_path: Path) -> None:
    market = _market("stress")
    save_policy(policy_of(market), tmp_path / "policy.json")
    check_policy(market, load_policy(tmp_path / "policy.json"))
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(InputError, match=r"--policy: .*bad\.json"):
        load_policy(tmp_path / "bad.json")
    (tmp_path / "other.json").write_text(json.dumps({"format": 9, "params": {}}))
    with pytest.raises(InputError, match="not a zksolv risk policy"):
        load_policy(tmp_path / "other.json")


def test_cli_market_policy_then_verify_refuses_another_policy(tmp_path: Path) -> None:
    """`zksolv market policy` writes the pin; `zksolv verify --policy` refuses (exit 2, before any proof is
    read) the market of an oracle that lowered the vol shift, and lets the venue's own market through."""
    _market("var").save(tmp_path / "venue.json")
    _market("var", vol_shift=0.01).save(tmp_path / "lowered.json")
    out = CliRunner().invoke(main, ["market", "policy", str(tmp_path / "venue.json"), "--out",
                                    str(tmp_path / "policy.json")])
    assert out.exit_code == 0, out.output
    assert "policy.json" in out.output and "vol_shift" in out.output
    (tmp_path / "proofs" / "alice").mkdir(parents=True)
    base = ["verify", "--proofs", str(tmp_path / "proofs"), "--dev-key", "--policy", str(tmp_path / "policy.json")]
    refused = CliRunner().invoke(main, [*base, "--market", str(tmp_path / "lowered.json")])
    assert refused.exit_code == EXIT_INPUT and "policy.params.vol_shift" in refused.stderr, refused.output
    honest = CliRunner().invoke(main, [*base, "--market", str(tmp_path / "venue.json")])
    assert "risk policy" not in honest.output


def test_the_keeper_daemon_refuses_an_epoch_of_another_policy(tmp_path: Path) -> None:
    from zksolv.verifier.keeper import main as keeper_main

    venue = tmp_path / "venue"
    (venue / "epochs" / "000001").mkdir(parents=True)
    (venue / "accounts.json").write_text("{}")
    _market("var", vol_shift=0.01).save(venue / "epochs" / "000001" / "market.json")
    save_policy(policy_of(_market("var")), tmp_path / "policy.json")
    (tmp_path / "vk.json").write_text("{}")
    code = keeper_main(["--venue", str(venue), "--vk", str(tmp_path / "vk.json"), "--policy",
                        str(tmp_path / "policy.json"), "--once"])
    assert code == 2
    assert not (venue / "epochs" / "000001" / "keeper_report.json").exists()
