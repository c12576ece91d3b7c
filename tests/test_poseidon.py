"""Poseidon against circomlibjs, computed in this test run through node."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from zksolv.core.poseidon import MAX_INPUTS, P, parameters, poseidon
from zksolv.toolchain import run_node

HELPER = Path(__file__).parent / "js" / "poseidon_vectors.js"


def _vectors() -> list[list[int]]:
    """Zeros, p-1, small counters and seeded random inputs for every arity."""
    rng = random.Random(20240607)
    out: list[list[int]] = []
    for n in range(1, MAX_INPUTS + 1):
        out.append([0] * n)
        out.append([P - 1] * n)
        out.append(list(range(1, n + 1)))
        out.extend([rng.randrange(P) for _ in range(n)] for _ in range(3))
    return out


VECTORS = _vectors()


@pytest.fixture(scope="module")
def circomlibjs_hashes() -> list[int]:
    """One node call hashing every vector with circomlibjs ``buildPoseidon``."""
    stdin = json.dumps([[str(x) for x in v] for v in VECTORS])
    proc = run_node([HELPER], timeout=120, what="circomlibjs poseidon vectors", stdin=stdin)
    hashes = [int(h) for h in json.loads(proc.stdout)]
    assert len(hashes) == len(VECTORS)
    return hashes


@pytest.mark.parametrize("arity", range(1, MAX_INPUTS + 1))
def test_matches_circomlibjs(arity: int, circomlibjs_hashes: list[int]) -> None:
    cases = [(v, h) for v, h in zip(VECTORS, circomlibjs_hashes) if len(v) == arity]
    assert len(cases) == 6
    for inputs, expected in cases:
        assert poseidon(inputs) == expected


def test_known_answers_without_node() -> None:
    """Published circomlib values, so a broken node setup cannot hide a regression."""
    assert poseidon([1, 2]) == 7853200120776062878684798364095072458815029376092732009249414926327459813530
    assert poseidon([0]) == 19014214495641488759237505126948346942972912379615652741039992445865937985820


def test_generated_parameters_shape() -> None:
    constants, mds = parameters(3)
    assert len(constants) == (8 + 57) * 3 and all(0 <= c < P for c in constants)
    assert len(mds) == 3 and all(len(row) == 3 for row in mds)
    assert constants[0] == 0x0EE9A592BA9A9518D05986D656F40C2114C4993C11BB29938D21D47304CD8E6E


@pytest.mark.parametrize("n", [0, MAX_INPUTS + 1])
def test_wrong_arity(n: int) -> None:
    with pytest.raises(ValueError, match="inputs"):
        poseidon([0] * n)


@pytest.mark.parametrize("bad", [P, -1, True, 1.0])
def test_unreduced_or_non_int_input(bad: object) -> None:
    with pytest.raises(ValueError, match=r"\[0, p\)"):
        poseidon([1, bad])  # type: ignore[list-item]


def test_input_order_and_values_matter() -> None:
    assert poseidon([1, 2]) != poseidon([2, 1])
    assert poseidon([1, 2]) != poseidon([1, 2, 0])


# ------------------------------------------------------------ cached round schedules
@pytest.mark.slow
def test_recorded_plan_hashes_match_a_fresh_derivation() -> None:
    """The sha256 that lets a cached schedule be used is that of the schedule derived here."""
    import hashlib

    from zksolv.core import poseidon as pos
    for t in range(2, MAX_INPUTS + 2):
        blob = pos._plan_bytes(pos._derive_plan(t))
        assert hashlib.sha256(blob).hexdigest() == pos._PLAN_SHA256[t], t
        assert pos._plan_from_bytes(t, blob) == pos._derive_plan(t)


def test_cached_plan_is_used_only_when_it_checks_out(tmp_path, monkeypatch) -> None:
    from zksolv.core import poseidon as pos
    monkeypatch.setenv("ZKSOLV_CACHE", str(tmp_path))
    expected = poseidon([1, 2])
    pos._plan.cache_clear()
    try:
        assert poseidon([1, 2]) == expected  # derived, then written
        path = tmp_path / "poseidon" / "plan-t3.bin"
        assert path.is_file()
        blob = bytearray(path.read_bytes())
        blob[40] ^= 1  # one flipped bit: refused, derived again (and the good file written back)
        path.write_bytes(bytes(blob))
        pos._plan.cache_clear()
        assert poseidon([1, 2]) == expected
        assert pos._read_cached_plan(3) is not None
        pos._plan.cache_clear()
        monkeypatch.setenv("ZKSOLV_CACHE", str(tmp_path / "file" / "x"))
        (tmp_path / "file").write_text("not a folder")  # unwritable cache: still hashes
        assert poseidon([1, 2]) == expected
    finally:
        pos._plan.cache_clear()
