"""The keeper daemon example of docs/keeper.md (zksolv.verifier.keeper), run on a venue folder of two
epochs: synthetic proofs (see test_batch_verify) bound to real market roots, so no prover runs."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from pathlib import Path

from tests.test_batch_verify import synthetic_proof, synthetic_vk
from tests.test_groth16_verifier import g1_json
from zksolv.verifier import keeper
from zksolv.core.commitments import market_root
from zksolv.app.demo import demo_market

ACCOUNTS = {"alice": 101, "bob": 202, "carol": 303, "dave": 404}


def _submit(epoch_dir: Path, name: str, proof: dict, public: list[int]) -> None:
    folder = epoch_dir / "proofs" / name
    folder.mkdir(parents=True)
    (folder / "proof.json").write_text(json.dumps(proof))
    (folder / "public.json").write_text(json.dumps([str(x) for x in public]))


def test_keeper_lists_accounts_without_a_valid_proof(tmp_path: Path, capsys) -> None:
    venue = tmp_path / "venue"
    venue.mkdir()
    (venue / "accounts.json").write_text(json.dumps({k: str(v) for k, v in ACCOUNTS.items()}))
    (tmp_path / "vk.json").write_text(json.dumps(synthetic_vk()))
    market = demo_market(n_strikes=3, n_expiries=1)
    for epoch in (1, 2):  # the second epoch re-lists the first's quotes (priced the day before it: allowed)
        state = replace(market, epoch=market.epoch + epoch - 1)
        root = market_root(state)
        epoch_dir = venue / "epochs" / f"{epoch:06d}"
        epoch_dir.mkdir(parents=True)
        state.save(epoch_dir / "market.json")
        _submit(epoch_dir, "alice", synthetic_proof([ACCOUNTS["alice"], root]), [ACCOUNTS["alice"], root])
        if epoch == 1:  # bob: a tampered proof; carol: her proof, for bob's commitment; dave: nothing
            bad = copy.deepcopy(synthetic_proof([ACCOUNTS["bob"], root]))
            bad["pi_a"] = g1_json(7)
            _submit(epoch_dir, "bob", bad, [ACCOUNTS["bob"], root])
            _submit(epoch_dir, "carol", synthetic_proof([ACCOUNTS["bob"], root]), [ACCOUNTS["bob"], root])
            _submit(epoch_dir, "mallory", synthetic_proof([999, root]), [999, root])
        else:  # everyone but alice replays an epoch-1 proof: wrong root
            for name in ("bob", "carol", "dave"):
                old = venue / "epochs" / "000001" / "proofs" / ("alice" if name == "dave" else name)
                _submit(epoch_dir, name, json.loads((old / "proof.json").read_text()),
                        json.loads((old / "public.json").read_text()))
    assert keeper.main(["--venue", str(venue), "--vk", str(tmp_path / "vk.json"), "--once"]) == 0
    first = json.loads((venue / "epochs" / "000001" / keeper.REPORT_FILE).read_text())
    assert first["valid"] == ["alice"] and first["missing"] == ["dave"] and first["unregistered"] == ["mallory"]
    assert first["without_valid_proof"] == ["bob", "carol", "dave"]
    assert first["invalid"]["bob"].startswith("pairing check failed")
    assert first["invalid"]["carol"].startswith("account_commitment differs")
    second = json.loads((venue / "epochs" / "000002" / keeper.REPORT_FILE).read_text())
    assert second["valid"] == ["alice"] and second["missing"] == []
    assert all(r.startswith("market_root differs") for r in second["invalid"].values())
    printed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [p["epoch"] for p in printed] == [market.epoch, market.epoch + 1]
    # a second pass finds nothing new to do
    assert keeper.run_once(venue, keeper.prepare_key(synthetic_vk())) == []
