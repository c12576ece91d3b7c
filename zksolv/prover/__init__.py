"""Trader side: witness from a private account, Groth16 proof."""
