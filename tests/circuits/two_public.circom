pragma circom 2.1.0;

// Toy circuit for the on-chain tests (zksolv tests only, not a margin rule).
// Exactly two public inputs, in the order zksolv's real circuits use:
//   [account_commitment, market_root]
// Private witness: secret, salt, with
//   account_commitment == secret * secret + salt
//   bound               == (secret + market_root) * (salt + 1)     (binds market_root)
// so both public inputs appear in a non-linear constraint.
template TwoPublic() {
    signal input account_commitment;
    signal input market_root;
    signal input secret;
    signal input salt;

    signal sq;
    sq <== secret * secret;
    account_commitment === sq + salt;

    signal bound;
    bound <== (secret + market_root) * (salt + 1);
}

component main {public [account_commitment, market_root]} = TwoPublic();
