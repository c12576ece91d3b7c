"""Fast and batched keeper verification: zksolv.verifier.bn254 against py_ecc, verify_many's batch and
bisection, and the native (groth16py) path agreeing with the Python one on every case.

Proofs here are synthetic Groth16 instances (known exponents, see test_groth16_verifier) bound
to a real market root, so the whole keeper path runs without node or a prover; the real-proof
cases of the demo tier are in tests/test_cli.py (many-folder verify) and at the end of this file.
"""

from __future__ import annotations

import copy
import secrets
from typing import Any

import pytest
from py_ecc.optimized_bn128 import G1 as PY_G1
from py_ecc.optimized_bn128 import G2 as PY_G2
from py_ecc.optimized_bn128 import final_exponentiate, is_inf, multiply, normalize, pairing

from tests.test_groth16_verifier import g1_json, g2_json
from zksolv.verifier import batch, bn254, native
from zksolv.verifier.groth16 import parse_g2
from zksolv.verifier.verify import PAIRING_FAILED, Submission, prepare_key, verify, verify_many
from zksolv.core.commitments import market_root
from zksolv.app.demo import demo_market

R, Q = bn254.R, bn254.P
ALPHA, BETA, GAMMA, DELTA = 11, 13, 17, 19
IC = (23, 30, 37)


@pytest.fixture(scope="module")
def market():
    return demo_market(n_strikes=3, n_expiries=1)


@pytest.fixture(scope="module")
def root(market) -> int:
    return market_root(market)


def synthetic_vk() -> dict[str, Any]:
    return {"protocol": "groth16", "curve": "bn128", "nPublic": 2, "vk_alpha_1": g1_json(ALPHA),
            "vk_beta_2": g2_json(BETA), "vk_gamma_2": g2_json(GAMMA), "vk_delta_2": g2_json(DELTA),
            "IC": [g1_json(k) for k in IC]}


def synthetic_proof(public: list[int], c_shift: int = 0) -> dict[str, Any]:
    """A proof for ``public`` under :func:`synthetic_vk` (random A, B exponents); valid when
    ``c_shift`` is 0, else C is off by ``c_shift`` times the generator."""
    a = secrets.randbelow(R - 1) + 1
    b = secrets.randbelow(R - 1) + 1
    x = (IC[0] + public[0] * IC[1] + public[1] * IC[2]) % R
    c = ((a * b - ALPHA * BETA - x * GAMMA) * pow(DELTA, -1, R) + c_shift) % R
    return {"pi_a": g1_json(a), "pi_b": g2_json(b), "pi_c": g1_json(c), "protocol": "groth16", "curve": "bn128"}


@pytest.fixture(scope="module")
def vk() -> dict[str, Any]:
    return synthetic_vk()


@pytest.fixture(scope="module")
def key(vk):
    return prepare_key(vk)


@pytest.fixture(scope="module")
def accounts(root: int) -> list[tuple[int, dict[str, Any], list[str]]]:
    """Six accounts: (commitment, valid proof, public.json)."""
    out = []
    for i in range(6):
        commitment = secrets.randbelow(R - 1) + 1
        out.append((commitment, synthetic_proof([commitment, root]), [str(commitment), str(root)]))
    return out


def _bad_cases(accounts, root: int) -> dict[str, Submission]:
    """One invalid submission per kind the brief names (plus a G2 point outside the subgroup)."""
    c0, p0, pub0 = accounts[0]
    c1, p1, pub1 = accounts[1]
    tampered_a = copy.deepcopy(p0)
    tampered_a["pi_a"] = g1_json(12345)
    other = synthetic_proof([c1, root])  # a valid proof, but of account 1, submitted for account 0
    return {
        "tampered_a": Submission(tampered_a, pub0, c0),
        "tampered_public": Submission(p0, [str(c0 + 1), str(root)]),
        "other_commitment": Submission(other, [str(c1), str(root)], c0),
        "other_commitment_unregistered": Submission(p1, [str(c0), str(root)]),
        "out_of_field": Submission(p0, [str(c0 + R), str(root)]),
        "coordinate_ge_q": Submission({**p0, "pi_c": [str(int(p0["pi_c"][0]) + Q), p0["pi_c"][1], "1"]}, pub0),
        "wrong_root": Submission(p0, [str(c0), str((root + 1) % R)]),
        "b_outside_g2": Submission({**p0, "pi_b": _non_subgroup_g2()}, pub0),
    }


def _non_subgroup_g2() -> list[list[str]]:
    from tests.test_groth16_verifier import _fq2_sqrt
    from py_ecc.fields import optimized_bn128_FQ2 as FQ2
    from py_ecc.optimized_bn128 import b2

    for t in range(1, 100):
        x = FQ2([t, 1])
        y = _fq2_sqrt(x ** 3 + b2)
        if y is not None:
            return [[str(c) for c in x.coeffs], [str(c) for c in y.coeffs], ["1", "0"]]
    raise AssertionError("no point found")


# ------------------------------------------------------------------ bn254 against py_ecc

def _g1(k: int) -> tuple[int, int]:
    x, y = normalize(multiply(PY_G1, k))
    return x.n, y.n


def _g2(k: int) -> tuple[tuple[int, int], tuple[int, int]]:
    x, y = normalize(multiply(PY_G2, k))
    return (x.coeffs[0], x.coeffs[1]), (y.coeffs[0], y.coeffs[1])


def test_miller_loop_and_pairing_equal_py_ecc() -> None:
    a, b = secrets.randbelow(R - 1) + 1, secrets.randbelow(R - 1) + 1
    ours = bn254.multi_miller_loop([(_g1(a), bn254.prepare_g2(_g2(b)))])
    ref = pairing(multiply(PY_G2, b), multiply(PY_G1, a), final_exponentiate=False)
    assert ours == tuple(int(c) for c in ref.coeffs)
    assert bn254.final_exponentiation(ours) == tuple(int(c) for c in final_exponentiate(ref).coeffs)


def test_constants_and_inverse_equal_py_ecc() -> None:
    from py_ecc.fields import optimized_bn128_FQ12 as FQ12
    from py_ecc.optimized_bn128 import curve_order, field_modulus
    from py_ecc.optimized_bn128.optimized_pairing import pseudo_binary_encoding

    assert (bn254.P, bn254.R, list(bn254.ATE_LOOP_NAF)) == (field_modulus, curve_order, pseudo_binary_encoding)
    a = tuple(secrets.randbelow(Q) for _ in range(12))
    assert bn254.f12_inv(a) == tuple(int(c) for c in FQ12(list(a)).inv().coeffs)
    assert bn254.f12_mul(a, bn254.f12_inv(a)) == bn254.ONE12
    with pytest.raises(ZeroDivisionError):
        bn254.f12_inv((0,) * 12)


def test_pairing_product_is_bilinear() -> None:
    a, b = secrets.randbelow(R - 1) + 1, secrets.randbelow(R - 1) + 1
    one = bn254.prepare_g2(_g2(1))
    assert bn254.pairing_product_is_one([(_g1(a), bn254.prepare_g2(_g2(b))), (bn254.g1_neg(_g1(a * b % R)), one)])
    assert not bn254.pairing_product_is_one([(_g1(a), bn254.prepare_g2(_g2(b))), (bn254.g1_neg(_g1(a * b + 1)), one)])


def test_curve_arithmetic_equals_py_ecc() -> None:
    k, m = secrets.randbelow(R), secrets.randbelow(1 << 128)
    assert bn254.g1_mul(_g1(k), m) == _g1(k * m % R)
    assert bn254.g1_add(_g1(k), _g1(m)) == _g1((k + m) % R)
    assert bn254.g1_add(_g1(k), _g1(k)) == _g1(2 * k % R)
    assert bn254.g1_add(_g1(k), bn254.g1_neg(_g1(k))) is None
    assert bn254.g1_lincomb([_g1(3), _g1(5), None], [k, m, 7]) == _g1((3 * k + 5 * m) % R)


def _twist_points(count: int) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Random points on the twist curve: almost all outside G2 (the cofactor is ~p)."""
    from tests.test_groth16_verifier import _fq2_sqrt
    from py_ecc.fields import optimized_bn128_FQ2 as FQ2
    from py_ecc.optimized_bn128 import b2

    out = []
    while len(out) < count:
        x = FQ2([secrets.randbelow(Q), secrets.randbelow(Q)])
        y = _fq2_sqrt(x ** 3 + b2)
        if y is not None:
            out.append(((x.coeffs[0], x.coeffs[1]), (y.coeffs[0], y.coeffs[1])))
    return out


def test_g2_subgroup_check_agrees_with_py_ecc() -> None:
    from py_ecc.fields import optimized_bn128_FQ2 as FQ2

    inside = [_g2(secrets.randbelow(R - 1) + 1) for _ in range(4)]
    outside = [parse_g2(_non_subgroup_g2(), "b", subgroup_check=False), *_twist_points(6)]
    # points of the other torsion part only: r * (random twist point) has order dividing the cofactor
    torsion = [bn254._to_affine(bn254.FP2, bn254._jac_mul(bn254.FP2, pt, R), bn254.f2_inv) for pt in _twist_points(3)]
    outside += [pt for pt in torsion if pt is not None]
    # in G2 plus a small-torsion component
    outside += [bn254._to_affine(bn254.FP2, bn254._jac_add_affine(bn254.FP2, (*inside[0], (1, 0)), pt), bn254.f2_inv)
                for pt in torsion if pt is not None]
    for point in inside + outside:
        py_point = (FQ2(list(point[0])), FQ2(list(point[1])), FQ2.one())
        expected = is_inf(multiply(py_point, R))
        assert bn254.g2_in_subgroup(point) == bn254.g2_in_subgroup_by_order(point) == expected
    assert [bn254.g2_in_subgroup(pt) for pt in inside] == [True] * 4
    assert not any(bn254.g2_in_subgroup(pt) for pt in outside) and len(outside) >= 7


# ------------------------------------------------------------------ batch

def test_batch_of_valid_proofs_is_accepted(market, key, accounts, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = batch.combined_check
    monkeypatch.setattr(batch, "combined_check", lambda *a, **k: calls.append(1) or real(*a, **k))
    subs = [Submission(p, pub, c, label=str(i)) for i, (c, p, pub) in enumerate(accounts)]
    verdicts = verify_many(subs, market, key)
    assert [v.valid for v in verdicts] == [True] * len(subs)
    assert [v.account_commitment for v in verdicts] == [c for c, _, _ in accounts]
    assert calls == [1]  # one combination for the whole batch


@pytest.mark.parametrize("case", ["tampered_a", "tampered_public", "other_commitment", "other_commitment_unregistered",
                                  "out_of_field", "coordinate_ge_q", "wrong_root", "b_outside_g2"])
@pytest.mark.parametrize("backend", ["python", "native"])
def test_one_bad_proof_is_named_and_the_rest_pass(market, key, vk, accounts, root, case: str, backend: str) -> None:
    if backend == "native" and not native.available():
        pytest.skip("groth16py not installed")
    bad = _bad_cases(accounts, root)[case]
    subs = [Submission(p, pub, c) for c, p, pub in accounts]
    position = 3
    subs.insert(position, bad)
    verdicts = verify_many(subs, market, key, backend=backend, workers=1)
    assert [v.valid for v in verdicts] == [i != position for i in range(len(subs))]
    # the same verdict, reason included, as verify() on that proof alone
    alone = verify(bad.proof, bad.public, market, vk, account_commitment=bad.account_commitment)
    assert verdicts[position] == alone
    expected = {"tampered_a": PAIRING_FAILED, "tampered_public": PAIRING_FAILED,
                "other_commitment": "account_commitment differs", "other_commitment_unregistered": PAIRING_FAILED,
                "out_of_field": "malformed: public signals[0]: value >= r",
                "coordinate_ge_q": "malformed: proof pi_c[0]: value >= field modulus",
                "wrong_root": "market_root differs", "b_outside_g2": "malformed: proof pi_b: point is not in the order-r"}
    assert alone.reason.startswith(expected[case]), alone.reason


def test_native_and_python_agree_on_every_case(market, key, accounts, root) -> None:
    if not native.available():
        pytest.skip("groth16py not installed")
    subs = [Submission(p, pub, c) for c, p, pub in accounts] + list(_bad_cases(accounts, root).values())
    py = verify_many(subs, market, key, backend="python")
    nat = verify_many(subs, market, key, backend="native", workers=2)
    reference = verify_many(subs, market, key, backend="py_ecc")  # py_ecc's own pairing at run time
    assert py == nat == reference
    assert sum(v.valid for v in py) == len(accounts)


def test_several_bad_proofs_are_all_named(market, key, accounts, root) -> None:
    bad = _bad_cases(accounts, root)
    subs = [Submission(p, pub, c) for c, p, pub in accounts] * 3
    subs[2], subs[11], subs[16] = bad["tampered_a"], bad["tampered_public"], bad["other_commitment_unregistered"]
    verdicts = verify_many(subs, market, key)
    assert [i for i, v in enumerate(verdicts) if not v.valid] == [2, 11, 16]
    assert all(verdicts[i].reason == PAIRING_FAILED for i in (2, 11, 16))


def test_random_coefficients_catch_errors_that_cancel(key, root) -> None:
    """Two invalid proofs whose errors cancel in a plain sum (C + D and C' - D): coefficients
    fixed to 1 accept them, which is why the coefficients are secret and random."""
    from zksolv.verifier.groth16 import parse_proof

    items = []
    for shift in (99, -99):
        commitment = secrets.randbelow(R - 1) + 1
        proof = synthetic_proof([commitment, root], c_shift=shift)
        items.append(batch.BatchItem(parse_proof(proof), [commitment, root]))
    assert batch.combined_check(key, items, coefficient=lambda: 1)  # fooled
    assert not batch.combined_check(key, items)
    assert batch.check_batch(key, items) == [False, False]


def test_bisection_cost_is_logarithmic(market, key, accounts, root, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = batch.combined_check
    monkeypatch.setattr(batch, "combined_check", lambda k, items, *a: calls.append(len(items)) or real(k, items, *a))
    subs = [Submission(p, pub, c) for c, p, pub in accounts] * 3  # 18
    subs[13] = _bad_cases(accounts, root)["tampered_a"]
    verdicts = verify_many(subs, market, key)
    assert [i for i, v in enumerate(verdicts) if not v.valid] == [13]
    assert len(calls) <= 2 * 5 + 1, calls


def test_unreadable_submission_and_bad_key(market, key, accounts) -> None:
    c0, p0, pub0 = accounts[0]
    verdicts = verify_many([Submission(error="proof.json not found", label="x"), Submission(p0, pub0, c0)], market, key)
    assert verdicts[0].status == "malformed" and "proof.json not found" in verdicts[0].reason
    assert verdicts[1].valid
    broken = verify_many([Submission(p0, pub0)], market, {"protocol": "groth16"})
    assert broken[0].status == "malformed"
    assert verify_many([], market, key) == []
