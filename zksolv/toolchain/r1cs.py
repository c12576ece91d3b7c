"""An independent R1CS checker: circom ``.r1cs`` / ``.wtns`` / ``.sym`` in plain Python.

Used by the soundness tests (tamper sweeps) to ask "does this witness satisfy
the constraint system?" without trusting circom's witness calculator or
snarkjs. Arithmetic is Python ``int`` modulo the prime read from the file;
linear combinations are stored sparsely, so checking one constraint costs
one short dot product and re-checking only the constraints that touch a
tampered wire is cheap.

File formats (iden3 "binfile": 4-byte magic, u32 version, u32 section count,
then sections of ``u32 id, u64 size, payload``; all integers little-endian,
field elements ``n8`` bytes in normal, not Montgomery, form):

* ``.r1cs`` (magic ``r1cs``, version 1) — section 1 header: ``n8``, prime,
  ``nWires, nPubOut, nPubIn, nPrvIn`` (u32), ``nLabels`` (u64),
  ``nConstraints`` (u32); section 2 constraints: per constraint the linear
  combinations A, B, C, each ``u32 nTerms`` then ``(u32 wire, n8-byte coeff)``;
  section 3 wire → label map (u64 per wire). Other sections (custom gates)
  are ignored.
* ``.wtns`` (magic ``wtns``, version 2) — section 1: ``n8``, prime,
  ``u32 nWitness``; section 2: the values, ``n8`` bytes each.
* ``.sym`` (text): ``labelId,wireId,componentId,name`` per line; ``wireId`` is
  ``-1`` for signals the optimiser removed.

Wire 0 is the constant 1; then public outputs, public inputs, private inputs,
then internal wires. A constraint holds iff ``<A,w> * <B,w> - <C,w> == 0 mod p``.

It is also the one binfile reader of the toolchain: :func:`read_binfile_sections`
(the section table), :func:`read_binfile_section` (one section, e.g. the ``.r1cs`` and
``.ptau`` headers) and :func:`read_r1cs_header`. It imports neither numba nor galois and
is never imported by the verifier.
"""

from __future__ import annotations

import struct
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from zksolv.core.errors import ToolchainError
from zksolv.core.fixedpoint import FIELD_MODULUS

#: A sparse linear combination: ``((wire, coeff), ...)`` with coeff in [0, p).
LinComb = tuple[tuple[int, int], ...]

#: One R1CS constraint ``(A, B, C)``.
Constraint = tuple[LinComb, LinComb, LinComb]

BN254_PRIME = FIELD_MODULUS  #: the prime every circom file here must declare

_R1CS_HEADER = 1
_R1CS_CONSTRAINTS = 2
_R1CS_WIRE2LABEL = 3
_WTNS_HEADER = 1
_WTNS_DATA = 2


# --------------------------------------------------------------------------
# binfile container
# --------------------------------------------------------------------------

def read_binfile_sections(path: Path, magic: bytes) -> tuple[int, dict[int, list[tuple[int, int]]]]:
    """Parse the section table of an iden3 binary file (.r1cs, .wtns, .ptau, .zkey).

    Returns ``(version, {section_id: [(offset, size), ...]})``. Raises
    :class:`ToolchainError` if the file is missing, has the wrong magic or is
    truncated.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(12)
            if len(head) < 12 or head[:4] != magic:
                raise ToolchainError(f"{path.name}: not a {magic.decode()} file (bad magic)")
            version, n_sections = struct.unpack("<II", head[4:12])
            sections: dict[int, list[tuple[int, int]]] = {}
            pos = 12
            for _ in range(n_sections):
                fh.seek(pos)
                hdr = fh.read(12)
                if len(hdr) < 12:
                    raise ToolchainError(f"{path.name}: truncated section table")
                sid, ssize = struct.unpack("<IQ", hdr)
                start = pos + 12
                if start + ssize > size:
                    raise ToolchainError(f"{path.name}: truncated (section {sid} runs past end of file)")
                sections.setdefault(sid, []).append((start, ssize))
                pos = start + ssize
    except FileNotFoundError:
        raise ToolchainError(f"{path} not found") from None
    except OSError as exc:
        raise ToolchainError(f"cannot read {path}: {exc.strerror}") from None
    return version, sections


def read_binfile_section(path: Path, magic: bytes, sid: int, what: str = "") -> bytes:
    """The payload of section ``sid`` (its first occurrence) of an iden3 binfile, without reading the
    rest of the file (a ``.ptau`` is hundreds of MB); :class:`ToolchainError` naming the file and
    ``what`` the section holds if it is missing."""
    path = Path(path)
    _version, sections = read_binfile_sections(path, magic)
    if sid not in sections:
        raise ToolchainError(f"{path.name}: no {what or f'section {sid}'} in this {magic.decode()} file")
    offset, size = sections[sid][0]
    try:
        with path.open("rb") as fh:
            fh.seek(offset)
            return fh.read(size)
    except OSError as exc:
        raise ToolchainError(f"cannot read {path}: {exc.strerror}") from None


def _read_sections(path: Path, magic: bytes) -> tuple[bytes, dict[int, tuple[int, int]]]:
    """Read an iden3 binfile whole: ``(raw bytes, {section id: (offset, size)})`` (first occurrence)."""
    _version, sections = read_binfile_sections(path, magic)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ToolchainError(f"cannot read {path}: {exc.strerror}") from None
    return data, {sid: where[0] for sid, where in sections.items()}


def _section(path: Path, sections: Mapping[int, tuple[int, int]], sid: int) -> tuple[int, int]:
    if sid not in sections:
        raise ToolchainError(f"{Path(path).name}: section {sid} missing")
    return sections[sid]


def _field_header(data: bytes, offset: int) -> tuple[int, int, int]:
    """Parse ``u32 n8, prime (n8 bytes)``: returns ``(n8, prime, offset after)``."""
    (n8,) = struct.unpack_from("<I", data, offset)
    prime = int.from_bytes(data[offset + 4 : offset + 4 + n8], "little")
    return n8, prime, offset + 4 + n8


# --------------------------------------------------------------------------
# .r1cs
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class R1csHeader:
    """Header of a circom ``.r1cs`` file (section 1)."""

    prime: int
    n_wires: int
    n_outputs: int
    n_public_inputs: int
    n_private_inputs: int
    n_labels: int
    n_constraints: int

    @property
    def n_public(self) -> int:
        """Public signals as snarkjs counts them: outputs, then public inputs."""
        return self.n_outputs + self.n_public_inputs


def _parse_r1cs_header(data: bytes, off: int) -> tuple[int, R1csHeader]:
    """``(n8, header)`` of the header section starting at ``off``."""
    n8, prime, off = _field_header(data, off)
    n_wires, n_out, n_pub, n_prv = struct.unpack_from("<IIII", data, off)
    (n_labels,) = struct.unpack_from("<Q", data, off + 16)
    (m,) = struct.unpack_from("<I", data, off + 24)
    return n8, R1csHeader(prime, n_wires, n_out, n_pub, n_prv, n_labels, m)


def read_r1cs_header(path: Path | str) -> R1csHeader:
    """Read the header section (id 1) of a ``.r1cs`` file without loading constraints."""
    return _parse_r1cs_header(read_binfile_section(Path(path), b"r1cs", _R1CS_HEADER, "header section"), 0)[1]


@dataclass
class R1CS:
    """A circom constraint system held in memory (sparse).

    ``constraints[i] = (A, B, C)``, each a tuple of ``(wire, coeff)``.
    ``wire_to_label[w]`` is the ``.sym`` label id of wire ``w``.
    """

    prime: int
    n8: int
    n_wires: int
    n_pub_out: int
    n_pub_in: int
    n_prv_in: int
    n_labels: int
    constraints: list[Constraint]
    wire_to_label: list[int] = field(default_factory=list)

    @property
    def n_constraints(self) -> int:
        """Number of constraints."""
        return len(self.constraints)

    @property
    def n_public(self) -> int:
        """Public signals (outputs then public inputs), as snarkjs counts them."""
        return self.n_pub_out + self.n_pub_in

    @classmethod
    def load(cls, path: Path | str) -> "R1CS":
        """Parse a circom ``.r1cs`` file."""
        path = Path(path)
        data, sections = _read_sections(path, b"r1cs")
        off, _ = _section(path, sections, _R1CS_HEADER)
        n8, h = _parse_r1cs_header(data, off)
        c_off, c_size = _section(path, sections, _R1CS_CONSTRAINTS)
        constraints = _parse_constraints(data, c_off, c_off + c_size, h.n_constraints, n8, path)
        wire_to_label: list[int] = []
        if _R1CS_WIRE2LABEL in sections:
            l_off, l_size = sections[_R1CS_WIRE2LABEL]
            wire_to_label = list(struct.unpack_from(f"<{l_size // 8}Q", data, l_off))
        return cls(h.prime, n8, h.n_wires, h.n_outputs, h.n_public_inputs, h.n_private_inputs, h.n_labels,
                   constraints, wire_to_label)

    def public_wires(self) -> range:
        """Wire ids of the public signals (outputs, then public inputs).

        Private inputs are not given as a range: circom ``--O2`` may drop an
        input that no constraint uses (its ``.sym`` wire is ``-1``) while the
        header still counts it in ``nPrvIn``. Use the ``.sym`` file instead.
        """
        return range(1, 1 + self.n_public)


def _parse_lincomb(data: bytes, off: int, n8: int) -> tuple[LinComb, int]:
    """Parse one linear combination at ``off``: ``(terms, offset after)``."""
    (n_terms,) = struct.unpack_from("<I", data, off)
    off += 4
    terms = []
    step = 4 + n8
    for _ in range(n_terms):
        (wire,) = struct.unpack_from("<I", data, off)
        terms.append((wire, int.from_bytes(data[off + 4 : off + step], "little")))
        off += step
    return tuple(terms), off


def _parse_constraints(data: bytes, off: int, end: int, m: int, n8: int, path: Path) -> list[Constraint]:
    """Parse ``m`` constraints from the constraints section ``[off, end)``."""
    out: list[Constraint] = []
    for _ in range(m):
        a, off = _parse_lincomb(data, off, n8)
        b, off = _parse_lincomb(data, off, n8)
        c, off = _parse_lincomb(data, off, n8)
        out.append((a, b, c))
    if off != end:
        raise ToolchainError(f"{path.name}: constraints section size mismatch ({off} != {end})")
    return out


# --------------------------------------------------------------------------
# .wtns
# --------------------------------------------------------------------------

def read_wtns_with_prime(path: Path | str) -> tuple[int, list[int]]:
    """``(prime, values)`` of a ``.wtns`` file, read and parsed once."""
    path = Path(path)
    data, sections = _read_sections(path, b"wtns")
    off, _ = _section(path, sections, _WTNS_HEADER)
    n8, prime, off = _field_header(data, off)
    (n_witness,) = struct.unpack_from("<I", data, off)
    d_off, d_size = _section(path, sections, _WTNS_DATA)
    if d_size != n_witness * n8:
        raise ToolchainError(f"{path.name}: witness section holds {d_size} bytes, expected {n_witness * n8}")
    return prime, [int.from_bytes(data[d_off + i * n8 : d_off + (i + 1) * n8], "little") for i in range(n_witness)]


def read_wtns(path: Path | str) -> list[int]:
    """The witness values of a ``.wtns`` file (index = wire id; ``[0] == 1``)."""
    return read_wtns_with_prime(path)[1]


def read_wtns_prime(path: Path | str) -> int:
    """The prime recorded in a ``.wtns`` header."""
    path = Path(path)
    data, sections = _read_sections(path, b"wtns")
    off, _ = _section(path, sections, _WTNS_HEADER)
    return _field_header(data, off)[1]


def write_wtns(path: Path | str, values: Sequence[int], prime: int = BN254_PRIME) -> Path:
    """Write ``values`` (reduced mod ``prime``) as a version-2 ``.wtns`` file readable by snarkjs."""
    n8 = ((prime.bit_length() - 1) // 64 + 1) * 8
    header = struct.pack("<I", n8) + prime.to_bytes(n8, "little") + struct.pack("<I", len(values))
    body = b"".join((v % prime).to_bytes(n8, "little") for v in values)
    blob = (b"wtns" + struct.pack("<II", 2, 2)
            + struct.pack("<IQ", _WTNS_HEADER, len(header)) + header
            + struct.pack("<IQ", _WTNS_DATA, len(body)) + body)
    path = Path(path)
    path.write_bytes(blob)
    return path


# --------------------------------------------------------------------------
# .sym
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class Symbol:
    """One line of a circom ``.sym`` file."""

    label: int
    wire: int  # -1 if the optimiser removed the signal
    component: int
    name: str


def read_sym(path: Path | str) -> list[Symbol]:
    """Parse a circom ``.sym`` file (``labelId,wireId,componentId,name`` per line)."""
    out: list[Symbol] = []
    for line in Path(path).read_text().splitlines():
        if not line.strip():
            continue
        label, wire, comp, name = line.split(",", 3)
        out.append(Symbol(int(label), int(wire), int(comp), name))
    return out


def find_wires(path: Path | str, names: Iterable[str]) -> dict[str, int]:
    """Wire ids of ``names`` in a ``.sym`` file (-1: optimised away), reading only as far as the last
    of them: a circuit's own ``main.*`` signals come first, so a witness check does not parse the
    hundreds of thousands of component signals after them. Names not in the file are absent."""
    wanted, found = set(names), {}
    with open(path) as f:
        for line in f:
            _label, wire, _comp, name = line.rstrip("\n").split(",", 3)
            if name in wanted:
                found[name] = int(wire)
                if len(found) == len(wanted):
                    break
    return found


def signal_wires(symbols: Iterable[Symbol]) -> dict[str, int]:
    """Signal name → wire id, for signals that survived optimisation."""
    return {s.name: s.wire for s in symbols if s.wire >= 0}


def wire_names(symbols: Iterable[Symbol]) -> dict[int, list[str]]:
    """Wire id → every signal name mapped to it (several after optimisation merges)."""
    out: dict[int, list[str]] = defaultdict(list)
    for s in symbols:
        if s.wire >= 0:
            out[s.wire].append(s.name)
    return dict(out)


def dropped_signals(symbols: Iterable[Symbol], prefixes: Sequence[str] = ("main.",)) -> list[Symbol]:
    """Signals of the given components (not of their subcomponents) that have no wire.

    ``dropped_signals(syms, ("main.",))`` lists e.g. ``main.unused``: an input
    that circom's optimiser removed because no constraint uses it — the
    statement does not depend on it at all. (Internal signals eliminated by
    linear substitution are also listed; callers decide which names matter.)
    """
    out = []
    for s in symbols:
        if s.wire >= 0:
            continue
        for pre in prefixes:
            if s.name.startswith(pre) and "." not in s.name[len(pre):]:
                out.append(s)
                break
    return out


# --------------------------------------------------------------------------
# checking
# --------------------------------------------------------------------------

def _dot(lc: LinComb, w: Sequence[int]) -> int:
    """``<lc, w>`` (not reduced)."""
    return sum(c * w[i] for i, c in lc)


def constraint_holds(con: Constraint, w: Sequence[int], prime: int) -> bool:
    """True if ``<A,w> * <B,w> == <C,w> (mod prime)``."""
    a, b, c = con
    av = _dot(a, w) % prime if a else 0
    if av == 0:
        return _dot(c, w) % prime == 0
    return (av * _dot(b, w) - _dot(c, w)) % prime == 0


def check(r1cs: R1CS, witness: Sequence[int], *, only: Iterable[int] | None = None,
          first: bool = False) -> list[int]:
    """Indices of the constraints ``witness`` violates (empty list = satisfied).

    ``only`` restricts the check to the given constraint indices (e.g. those
    touching a tampered wire); ``first`` stops at the first violation.
    Raises :class:`ToolchainError` if the witness length or wire 0 is wrong.
    """
    if len(witness) != r1cs.n_wires:
        raise ToolchainError(f"witness has {len(witness)} values, the r1cs {r1cs.n_wires} wires")
    if witness[0] % r1cs.prime != 1:
        raise ToolchainError("witness[0] must be 1 (the constant wire)")
    p = r1cs.prime
    idx: Iterable[int] = range(len(r1cs.constraints)) if only is None else only
    bad: list[int] = []
    for i in idx:
        if not constraint_holds(r1cs.constraints[i], witness, p):
            bad.append(i)
            if first:
                break
    return bad


def constraints_touching(r1cs: R1CS) -> dict[int, list[int]]:
    """Wire id → indices of the constraints with a non-zero coefficient on it (in A, B or C)."""
    out: dict[int, list[int]] = defaultdict(list)
    for i, (a, b, c) in enumerate(r1cs.constraints):
        for w in {wire for lc in (a, b, c) for wire, coeff in lc if coeff % r1cs.prime}:
            out[w].append(i)
    return dict(out)


def unconstrained_wires(r1cs: R1CS) -> list[int]:
    """Wires (other than wire 0) that appear in no constraint: any value satisfies the system."""
    touched = constraints_touching(r1cs)
    return [w for w in range(1, r1cs.n_wires) if w not in touched]


def tamper_rejected(r1cs: R1CS, witness: Sequence[int], wire: int, value: int,
                    touching: Mapping[int, Sequence[int]]) -> bool:
    """True if setting ``witness[wire] = value`` violates some constraint.

    Only the constraints touching ``wire`` are re-checked (``touching`` from
    :func:`constraints_touching`): the others are unchanged and the original
    witness is assumed valid. The witness is restored before returning.
    """
    w = witness if isinstance(witness, list) else list(witness)
    old = w[wire]
    w[wire] = value % r1cs.prime
    try:
        return bool(check(r1cs, w, only=touching.get(wire, ()), first=True))
    finally:
        w[wire] = old
