"""Keeper side: Groth16 verification in pure Python (integer BN254 pairing, checked against py_ecc),
batched over many proofs (``verify_many``), with an optional native path (groth16py, process pool);
imports no node, numba or circuit code."""
