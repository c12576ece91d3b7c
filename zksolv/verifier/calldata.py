"""Groth16 proofs as EVM calldata (keeper side: stdlib, :mod:`zksolv.core.errors`, :mod:`zksolv.proofs.proof_io`).

snarkjs JSON writes a G2 point as ``[[x_re, x_im], [y_re, y_im], ["1", "0"]]``; the EVM
pairing precompile (EIP-197) and the generated verifier take ``[[x_im, x_re], [y_im, y_re]]``
— imaginary part first. :func:`proof_to_calldata` does the swap (and nothing else does), so a
proof passed in snarkjs order fails on chain; the tests check exactly that.

Every value is checked to be a canonical field element before it is encoded — a JSON int
or a canonical decimal string (see :func:`zksolv.proofs.proof_io.canonical_int`), proof coordinates ``< q`` (base field),
public inputs ``< r`` (scalar field). Non-canonical values would be rejected by the
contract anyway (and some off-chain verifiers silently reduce them mod r), so they are
refused here with a clear error.

Most zksolv contract arguments are static ABI types (``uint256``, ``address``, fixed arrays),
so ABI encoding is the 4-byte selector followed by one 32-byte big-endian word per value;
:func:`encode_prove_solvent_batch` writes the offsets and lengths of its two dynamic arrays.
Every proof call names its tier (the position capacity of the circuit it was made in): the
registry holds one verifier per tier the venue accepts.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from zksolv.core.errors import InputError, VerificationError
from zksolv.proofs.proof_io import canonical_int
from zksolv.verifier.bn254 import P, R

#: BN254 scalar field order R (public inputs, witness values) and base field order Q (curve
#: point coordinates): the keeper side's one definition is zksolv.verifier.bn254.
Q = P

#: ``verifyProof(uint256[2],uint256[2][2],uint256[2],uint256[2])`` (snarkjs verifier, 2 inputs).
VERIFY_PROOF_SELECTOR = bytes.fromhex("f5c9d69e")
#: ``proveSolvent(uint256,uint256[2],uint256[2][2],uint256[2],uint256)`` (contracts/SolvencyRegistry.sol;
#: the tier's position capacity, the proof, the registered account commitment).
PROVE_SOLVENT_SELECTOR = bytes.fromhex("07e57c4f")
#: ``postMarketRoot(uint64,uint256,uint64)`` (epoch, root, proof window in seconds).
POST_MARKET_ROOT_SELECTOR = bytes.fromhex("de7b7e33")
#: ``proveSolventBatch(uint256,uint256[8][],uint256[])`` (tier, proofs, commitments).
PROVE_SOLVENT_BATCH_SELECTOR = bytes.fromhex("28231edc")
#: ``markLiquidatable(uint256)``.
MARK_LIQUIDATABLE_SELECTOR = bytes.fromhex("14e2f432")
#: ``isSolvent(uint256)``: proven against the current root.
IS_SOLVENT_SELECTOR = bytes.fromhex("89ad556e")
#: ``registerAccount(address,uint256)``.
REGISTER_ACCOUNT_SELECTOR = bytes.fromhex("58cbe353")
#: ``acceptedTiers()``: the registry's ``(capacity, verifier, batchVerifier)[]``.
ACCEPTED_TIERS_SELECTOR = bytes.fromhex("58ebdb4d")

G1 = tuple[int, int]
G2 = tuple[tuple[int, int], tuple[int, int]]

PROOF_BYTES = 256


def _base(value: Any, what: str) -> int:
    out = canonical_int(value, what)
    if out >= Q:
        raise VerificationError(f"{what}: not a canonical base-field element (>= q)")
    return out


def _g1(point: Any, what: str) -> G1:
    if not isinstance(point, Sequence) or isinstance(point, str) or len(point) not in (2, 3):
        raise VerificationError(f"{what}: expected [x, y, \"1\"]")
    if len(point) == 3 and canonical_int(point[2], f"{what}[2]") != 1:
        raise VerificationError(f"{what}: not in affine form (z != 1)")
    return _base(point[0], f"{what}.x"), _base(point[1], f"{what}.y")


def _g2_snarkjs(point: Any, what: str) -> G2:
    """Read a snarkjs G2 point ``[[x_re, x_im], [y_re, y_im], ["1", "0"]]`` as ((x_re, x_im), (y_re, y_im))."""
    if not isinstance(point, Sequence) or isinstance(point, str) or len(point) not in (2, 3):
        raise VerificationError(f"{what}: expected [[x_re, x_im], [y_re, y_im], [\"1\", \"0\"]]")
    if len(point) == 3:
        z = point[2]
        if (not isinstance(z, Sequence) or len(z) != 2
                or canonical_int(z[0], what) != 1 or canonical_int(z[1], what) != 0):
            raise VerificationError(f"{what}: not in affine form (z != [1, 0])")
    coords = []
    for i, name in ((0, "x"), (1, "y")):
        pair = point[i]
        if not isinstance(pair, Sequence) or isinstance(pair, str) or len(pair) != 2:
            raise VerificationError(f"{what}.{name}: expected [re, im]")
        coords.append((_base(pair[0], f"{what}.{name}.re"), _base(pair[1], f"{what}.{name}.im")))
    return coords[0], coords[1]


def proof_to_calldata(proof_json: Mapping[str, Any]) -> tuple[list[int], list[list[int]], list[int]]:
    """Convert a snarkjs ``proof.json`` object to the verifier's ``(a, b, c)`` arguments.

    ``b`` comes out in EVM order ``[[x_im, x_re], [y_im, y_re]]``. Raises
    :class:`VerificationError` if the proof is malformed, not Groth16/BN254, or has a
    coordinate that is not a canonical element of the base field (``>= q``).
    """
    if not isinstance(proof_json, Mapping):
        raise VerificationError("proof: expected a JSON object")
    protocol = proof_json.get("protocol", "groth16")
    curve = proof_json.get("curve", "bn128")
    if protocol != "groth16" or curve not in ("bn128", "bn254"):
        raise VerificationError(f"proof: expected groth16 on bn128, got {protocol} on {curve}")
    for key in ("pi_a", "pi_b", "pi_c"):
        if key not in proof_json:
            raise VerificationError(f"proof: missing {key}")
    ax, ay = _g1(proof_json["pi_a"], "pi_a")
    (bx_re, bx_im), (by_re, by_im) = _g2_snarkjs(proof_json["pi_b"], "pi_b")
    cx, cy = _g1(proof_json["pi_c"], "pi_c")
    return [ax, ay], [[bx_im, bx_re], [by_im, by_re]], [cx, cy]


def public_to_calldata(public: Sequence[Any], n_public: int = 2) -> list[int]:
    """Public signals (snarkjs ``public.json``) as integers, each checked ``< r``."""
    if isinstance(public, (str, bytes)) or not isinstance(public, Sequence):
        raise VerificationError("public: expected a list of field elements")
    if len(public) != n_public:
        raise VerificationError(f"public: expected {n_public} values, got {len(public)}")
    out = []
    for i, value in enumerate(public):
        v = canonical_int(value, f"public[{i}]")
        if v >= R:
            raise VerificationError(f"public[{i}]: not a canonical scalar-field element (>= r)")
        out.append(v)
    return out


def proof_from_bytes(blob: bytes) -> dict[str, Any]:
    """The 256-byte Ethereum-order proof (a.x, a.y, b.x_im, b.x_re, b.y_im, b.y_re, c.x, c.y),
    as produced by groth16py, converted to snarkjs ``proof.json`` form."""
    if len(blob) != PROOF_BYTES:
        raise VerificationError(f"proof: expected {PROOF_BYTES} bytes, got {len(blob)}")
    w = [int.from_bytes(blob[i : i + 32], "big") for i in range(0, PROOF_BYTES, 32)]
    for i, v in enumerate(w):
        if v >= Q:
            raise VerificationError(f"proof word {i}: not a canonical base-field element (>= q)")
    return {
        "pi_a": [str(w[0]), str(w[1]), "1"],
        "pi_b": [[str(w[3]), str(w[2])], [str(w[5]), str(w[4])], ["1", "0"]],
        "pi_c": [str(w[6]), str(w[7]), "1"],
        "protocol": "groth16",
        "curve": "bn128",
    }


def encode_words(values: Sequence[int]) -> bytes:
    """ABI-encode unsigned integers as consecutive 32-byte big-endian words."""
    out = bytearray()
    for v in values:
        if not isinstance(v, int) or isinstance(v, bool) or v < 0 or v >= 1 << 256:
            raise InputError(f"ABI word out of range for uint256: {v!r}")
        out += v.to_bytes(32, "big")
    return bytes(out)


def address_word(address: str) -> int:
    """A ``0x``-prefixed 20-byte address as an ABI word."""
    h = address[2:] if address.startswith(("0x", "0X")) else address
    if len(h) != 40:
        raise InputError(f"not a 20-byte address: {address!r}")
    try:
        return int(h, 16)
    except ValueError:
        raise InputError(f"not a hex address: {address!r}") from None


def _flat(a: Sequence[int], b: Sequence[Sequence[int]], c: Sequence[int]) -> list[int]:
    if len(a) != 2 or len(b) != 2 or any(len(row) != 2 for row in b) or len(c) != 2:
        raise InputError("proof arguments must be a: uint[2], b: uint[2][2], c: uint[2]")
    return [a[0], a[1], b[0][0], b[0][1], b[1][0], b[1][1], c[0], c[1]]


def encode_verify_proof(
    a: Sequence[int], b: Sequence[Sequence[int]], c: Sequence[int], public: Sequence[int]
) -> bytes:
    """Calldata of ``verifyProof(a, b, c, pub)`` for the 2-input verifier (no range checks:
    tests use it to send deliberately bad values)."""
    if len(public) != 2:
        raise InputError("the zksolv verifier takes exactly 2 public inputs")
    return VERIFY_PROOF_SELECTOR + encode_words([*_flat(a, b, c), *public])


def encode_prove_solvent(
    tier: int, a: Sequence[int], b: Sequence[Sequence[int]], c: Sequence[int], account_commitment: int
) -> bytes:
    """Calldata of ``SolvencyRegistry.proveSolvent(tier, a, b, c, accountCommitment)``.

    ``tier`` is the position capacity of the circuit the proof was made in (one the registry
    accepts); ``account_commitment`` is the proof's first public input, as registered by the
    venue (not the trader's address). Like :func:`encode_verify_proof` it does no range checks
    (the registry refuses a tier it does not accept with ``UnknownTier``).
    """
    if isinstance(account_commitment, str):
        raise InputError("proveSolvent takes the account commitment (an integer), not an address")
    return PROVE_SOLVENT_SELECTOR + encode_words([tier, *_flat(a, b, c), account_commitment])


#: Shortest and longest proof window the registry accepts (``MIN_PROOF_WINDOW``, ``MAX_PROOF_WINDOW``).
MIN_PROOF_WINDOW = 3600
MAX_PROOF_WINDOW = 7 * 24 * 3600


def encode_post_market_root(epoch: int, root: int, proof_window: int = MIN_PROOF_WINDOW) -> bytes:
    """Calldata of ``SolvencyRegistry.postMarketRoot(epoch, root, proofWindow)``.

    ``proof_window``: seconds from the block's timestamp until proofs are due (after that,
    ``markLiquidatable`` applies); the registry refuses less than :data:`MIN_PROOF_WINDOW`
    (``ProofWindowTooShort``) and more than :data:`MAX_PROOF_WINDOW`.
    """
    for name, value in (("epoch", epoch), ("proof_window", proof_window)):
        if not 0 <= value < 1 << 64:
            raise InputError(f"{name} out of range for uint64: {value}")
    return POST_MARKET_ROOT_SELECTOR + encode_words([epoch, root, proof_window])


def encode_prove_solvent_batch(
    tier: int,
    proofs: Sequence[tuple[Sequence[int], Sequence[Sequence[int]], Sequence[int]]],
    commitments: Sequence[int],
) -> bytes:
    """Calldata of ``proveSolventBatch(uint256 tier, uint256[8][] proofs, uint256[] commitments)``.

    Every proof is of the one tier ``tier`` (a position capacity the registry accepts; send one
    batch per tier). ``proofs`` are ``(a, b, c)`` as :func:`proof_to_calldata` returns them
    (``b`` in EVM order); the registry wants ``commitments`` strictly increasing (sort the pairs
    first). No range checks on the proofs.
    """
    n = len(proofs)
    head = [tier, 96, 96 + 32 + 256 * n]
    words = [*head, n, *(w for a, b, c in proofs for w in _flat(a, b, c)), len(commitments), *commitments]
    return PROVE_SOLVENT_BATCH_SELECTOR + encode_words(words)


def decode_accepted_tiers(data: bytes) -> list[tuple[int, str, str]]:
    """The return data of ``acceptedTiers()``: ``(capacity, verifier, batch verifier)`` per tier."""
    words = [int.from_bytes(data[i : i + 32], "big") for i in range(0, len(data) - len(data) % 32, 32)]
    if len(words) < 2 or words[0] != 32 or len(words) != 2 + 3 * words[1]:
        raise InputError("acceptedTiers(): malformed return data")
    return [(words[2 + 3 * i], f"0x{words[3 + 3 * i]:040x}", f"0x{words[4 + 3 * i]:040x}") for i in range(words[1])]


def encode_mark_liquidatable(commitment: int) -> bytes:
    """Calldata of ``SolvencyRegistry.markLiquidatable(commitment)``."""
    return MARK_LIQUIDATABLE_SELECTOR + encode_words([commitment])


def encode_register_account(account: str, commitment: int) -> bytes:
    """Calldata of ``SolvencyRegistry.registerAccount(account, commitment)``."""
    return REGISTER_ACCOUNT_SELECTOR + encode_words([address_word(account), commitment])
