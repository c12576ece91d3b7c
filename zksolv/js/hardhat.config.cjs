// The local dev chain of `zksolv chain node` (zksolv/chain/node.py): Hardhat Network only,
// chain id 31337, the Prague hardfork the in-process EVM (zksolv/chain/evm.py) runs, so gas
// from this node's receipts equals the in-process figures. No compiler, no network access.
module.exports = {
  networks: {
    hardhat: {
      chainId: 31337,
      hardfork: "prague",
      // a proof batch of 32 uses ~2M gas; keep Hardhat's default 30M block gas limit
      blockGasLimit: 30000000,
      initialBaseFeePerGas: 1000000000,
      // behave like a real node: a reverting transaction is mined with status 0 (the client
      // names the error from the receipt), not refused at eth_sendRawTransaction
      throwOnTransactionFailures: false,
    },
  },
};
