"""The chain side: the Solidity verifier and registry export (:mod:`zksolv.chain.solidity`) and
solc-js compilation plus an in-process EVM for tests and gas benchmarks (:mod:`zksolv.chain.evm`).
Nothing here is imported by the keeper's ``verifier`` package or by proving."""
