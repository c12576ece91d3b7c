"""Keeper side: Groth16 verification in Python (py_ecc); imports no node, numba or circuit code."""
