"""Poseidon against circomlibjs, computed in this test run through node."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from zksolv.core import poseidon_native
from zksolv.core.poseidon import MAX_INPUTS, P, parameters, poseidon, poseidon_reference
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
        assert poseidon_reference(inputs) == expected
        assert poseidon(inputs) == expected  # native where installed and cross-checked


@pytest.mark.parametrize("arity", range(1, MAX_INPUTS + 1))
def test_native_matches_circomlibjs(arity: int, circomlibjs_hashes: list[int]) -> None:
    """The native library itself (not through the dispatcher) on every arity it offers."""
    pytest.importorskip(poseidon_native.MODULE)
    import light_poseidon_python as mod

    native = poseidon_native._adapter(mod, arity)
    if native is None:  # an arity the library lacks (13..16 for light-poseidon): the reference serves it
        assert poseidon_native.checked_native(arity, poseidon_reference) is None
        return
    for inputs, expected in [(v, h) for v, h in zip(VECTORS, circomlibjs_hashes) if len(v) == arity]:
        assert native(inputs) == expected


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
    expected = poseidon_reference([1, 2])
    pos._plan.cache_clear()
    try:
        assert poseidon_reference([1, 2]) == expected  # derived, then written
        path = tmp_path / "poseidon" / "plan-t3.bin"
        assert path.is_file()
        blob = bytearray(path.read_bytes())
        blob[40] ^= 1  # one flipped bit: refused, derived again (and the good file written back)
        path.write_bytes(bytes(blob))
        pos._plan.cache_clear()
        assert poseidon_reference([1, 2]) == expected
        assert pos._read_cached_plan(3) is not None
        pos._plan.cache_clear()
        monkeypatch.setenv("ZKSOLV_CACHE", str(tmp_path / "file" / "x"))
        (tmp_path / "file").write_text("not a folder")  # unwritable cache: still hashes
        assert poseidon_reference([1, 2]) == expected
    finally:
        pos._plan.cache_clear()


# ------------------------------------------------------------ native backend and its cross-check
@pytest.fixture
def fresh_native(monkeypatch):
    """Every arity re-checked in the test, and again after it (no decision leaks either way)."""
    monkeypatch.delenv(poseidon_native.ENV, raising=False)
    poseidon_native.reset()
    yield
    poseidon_native.reset()


#: the arities the project hashes: account commitment 4, leaf and market root 6, Merkle node 8,
#: entry block 9, hash_list 16 (grep "poseidon(" in zksolv/core)
PROJECT_ARITIES = (4, 6, 8, 9, 16)


def test_project_arities_are_native_where_the_library_has_them(fresh_native) -> None:
    pytest.importorskip(poseidon_native.MODULE)
    for n in PROJECT_ARITIES:
        assert poseidon(list(range(n))) == poseidon_reference(list(range(n)))
    used = poseidon_native.backend()
    assert {n: used[n] for n in PROJECT_ARITIES} == {4: "native", 6: "native", 8: "native", 9: "native",
                                                     16: "python"}  # light-poseidon hashes 1..12 inputs


class _WrongHasher:
    """A native library that is right except on arity 6 (the leaf): must be refused there and everywhere."""

    __version__ = "bad"

    def __init__(self, n: int) -> None:
        self.n = n

    def hash_bytes_be(self, xs: list[bytes]) -> str:
        good = poseidon_reference([int.from_bytes(x, "big") for x in xs])
        return hex((good + 1) % P if self.n == 6 else good)


class _WrongModule:
    Hasher = _WrongHasher
    __version__ = "bad"


def test_cross_check_refuses_a_wrong_native_and_falls_back(fresh_native, monkeypatch, capsys) -> None:
    import sys

    monkeypatch.setitem(sys.modules, poseidon_native.MODULE, _WrongModule)
    assert poseidon_native.backend() == {}
    assert poseidon([1, 2, 3, 4]) == poseidon_reference([1, 2, 3, 4])
    assert poseidon_native.backend() == {4: "native"}  # right on arity 4: used
    leaf = list(range(6))
    assert poseidon(leaf) == poseidon_reference(leaf)  # wrong on 6: refused before first use
    assert poseidon(list(range(8))) == poseidon_reference(list(range(8)))
    assert poseidon_native.backend() == {4: "native", 6: "python", 8: "python"}  # disabled for the process
    poseidon(list(range(6, 0, -1)))
    poseidon(list(range(9)))
    err = capsys.readouterr().err
    assert err.count("native Poseidon") == 1 and "disagrees" in err and "6 inputs" in err


def test_import_error_or_missing_arity_falls_back_quietly(fresh_native, monkeypatch, capsys) -> None:
    import sys

    monkeypatch.setitem(sys.modules, poseidon_native.MODULE, None)  # import raises ImportError
    assert poseidon([1, 2]) == poseidon_reference([1, 2])
    assert poseidon_native.backend() == {2: "python"}
    poseidon_native.reset()

    class TwoOnly:  # light-poseidon-python 0.1.10: Hasher(2) only, decimal strings
        class Hasher:
            def __init__(self, n: int) -> None:
                if n != 2:
                    raise ValueError("Hasher requires exactly 2 inputs")

            def hash(self, xs: list[int]) -> str:
                return str(poseidon_reference(xs))

    monkeypatch.setitem(sys.modules, poseidon_native.MODULE, TwoOnly)
    assert poseidon([1, 2]) == poseidon_reference([1, 2]) and poseidon([1, 2, 3]) == poseidon_reference([1, 2, 3])
    assert poseidon_native.backend() == {2: "native", 3: "python"}
    assert capsys.readouterr().err == ""


def test_env_forces_the_reference(fresh_native, monkeypatch) -> None:
    monkeypatch.setenv(poseidon_native.ENV, "python")
    poseidon([1, 2, 3, 4])
    assert poseidon_native.backend() == {4: "python"}


def test_bad_inputs_never_reach_the_native_library(fresh_native, monkeypatch) -> None:
    """light-poseidon-python reduces inputs >= p silently; the range check comes first."""
    import sys

    class Exploding:
        class Hasher:
            def __init__(self, n: int) -> None:
                raise AssertionError("native called")

    monkeypatch.setitem(sys.modules, poseidon_native.MODULE, Exploding)
    for bad in ([1, P], [-1, 2], [True, 2], ["1", "2"]):
        with pytest.raises(ValueError, match=r"\[0, p\)"):
            poseidon(bad)  # type: ignore[arg-type]
