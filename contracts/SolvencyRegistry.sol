// SPDX-License-Identifier: GPL-3.0-or-later
pragma solidity ^0.8.28;

/// @notice The ABI of the Groth16 verifier zksolv generates (snarkjs' template) for a
///         circuit with exactly two public inputs `[account_commitment, market_root]`.
interface IGroth16Verifier2 {
    function verifyProof(
        uint256[2] calldata a,
        uint256[2][2] calldata b,
        uint256[2] calldata c,
        uint256[2] calldata pubSignals
    ) external view returns (bool);
}

/// @title SolvencyRegistry
/// @notice Records which account commitments proved, in zero knowledge, that they meet the
///         zksolv margin rule against the venue's current market root.
/// @dev Trust model and choices (see docs/onchain.md):
///      - The venue (deployer, immutable `venue`) posts one market root per epoch; epochs
///        strictly increase and start at 1 (0 means "no root yet" / "never proven"), and a
///        root is never posted twice, so a root names exactly one epoch (`epochOfRoot`).
///      - The venue, not the trader, registers account commitments: a commitment is only
///        meaningful if it commits to the positions and balances the venue actually holds
///        for that account. Self-registration would let a trader prove solvency of an
///        invented portfolio. Re-registering an account (positions changed) forgets its
///        previous commitment, which can then no longer be proven, and clears its record.
///      - Anyone may submit a proof (the trader or a keeper): the proof is the authorisation.
///        It is checked against the CURRENT root and the given REGISTERED commitment, so a
///        proof made for an older root, or for another commitment, fails.
///      - Everything `proveSolvent` needs sits in two storage slots: the commitment's record
///        (`REGISTERED | root it was last proven against`) and `currentRoot`. Roots and
///        commitments are < r < 2^254, so bit 255 is free for the flag.
///      - A second proof for the same commitment against the same root reverts
///        (`AlreadyProven`) instead of silently succeeding, so callers never pay ~200k gas
///        for a no-op.
///      - Field elements are canonical: commitments and roots must be 0 < x < r (checked once,
///        when stored), proof coordinates < q (checked per proof, before the pairing).
contract SolvencyRegistry {
    /// @dev BN254 scalar field order r (public inputs live in F_r).
    uint256 internal constant R = 21888242871839275222246405745257275088548364400416034343698204186575808495617;
    /// @dev BN254 base field order q (proof coordinates live in F_q).
    uint256 internal constant Q = 21888242871839275222246405745257275088696311157297823662689037894645226208583;
    /// @dev Bit 255 of a commitment record: the commitment is registered. Bits 0..253 hold the
    ///      root the commitment was last proven against (0 = never).
    uint256 internal constant REGISTERED = 1 << 255;

    /// @notice The Groth16 verifier of the circuit tier this registry accepts.
    IGroth16Verifier2 public immutable verifier;
    /// @notice The venue: the only address that posts roots and registers accounts.
    address public immutable venue;

    /// @notice Market root of the current epoch (0 before the first post).
    uint256 public currentRoot;
    /// @notice Current epoch (0 before the first post).
    uint64 public currentEpoch;
    /// @notice Epoch in which `root` was posted (0 = never posted).
    mapping(uint256 root => uint64 epoch) public epochOfRoot;
    /// @notice Registered commitment per account (0 = none); bookkeeping for the venue,
    ///         not read by `proveSolvent`.
    mapping(address account => uint256 commitment) public commitmentOf;
    /// @dev Per commitment: `REGISTERED | lastProvenRoot`, or 0 if not registered.
    mapping(uint256 commitment => uint256 record) internal _record;

    /// @notice A new market root was posted.
    event MarketRootPosted(uint64 indexed epoch, uint256 root);
    /// @notice The venue (re-)registered an account's commitment.
    event AccountRegistered(address indexed account, uint256 indexed commitment);
    /// @notice `accountCommitment` proved solvency against `root` (the current root; its epoch
    ///         is `epochOfRoot(root)`, not emitted because reading it would cost a cold SLOAD).
    event ProvenSolvent(uint256 indexed accountCommitment, uint256 root);

    /// @notice Caller is not the venue.
    error NotVenue();
    /// @notice `epoch` is not greater than the current epoch.
    error EpochNotIncreasing(uint64 epoch, uint64 current);
    /// @notice `root` was already posted, in `epoch`.
    error RootAlreadyPosted(uint256 root, uint64 epoch);
    /// @notice A public value (commitment, root) is not a canonical element of F_r, or zero.
    error NotInScalarField(uint256 value);
    /// @notice A proof coordinate is not a canonical element of F_q.
    error NotInBaseField();
    /// @notice `commitment` is not registered (never, or replaced by a re-registration).
    error UnknownCommitment(uint256 commitment);
    /// @notice `commitment` is already registered to another account.
    error CommitmentTaken(uint256 commitment);
    /// @notice No market root has been posted yet.
    error NoMarketRoot();
    /// @notice `commitment` already proved solvency against `root`.
    error AlreadyProven(uint256 commitment, uint256 root);
    /// @notice The verifier rejected the proof for (commitment, current root).
    error InvalidProof();

    /// @param verifier_ The generated Groth16 verifier of the accepted circuit tier.
    constructor(IGroth16Verifier2 verifier_) {
        verifier = verifier_;
        venue = msg.sender;
    }

    modifier onlyVenue() {
        if (msg.sender != venue) revert NotVenue();
        _;
    }

    /// @notice Post the market root of a new epoch (venue only).
    /// @param epoch Must be greater than `currentEpoch` (so the first epoch is >= 1).
    /// @param root  `market_root` of that epoch; 0 < root < r, never posted before.
    function postMarketRoot(uint64 epoch, uint256 root) external onlyVenue {
        uint64 current = currentEpoch;
        if (epoch <= current) revert EpochNotIncreasing(epoch, current);
        if (root == 0 || root >= R) revert NotInScalarField(root);
        uint64 earlier = epochOfRoot[root];
        if (earlier != 0) revert RootAlreadyPosted(root, earlier);
        epochOfRoot[root] = epoch;
        currentEpoch = epoch;
        currentRoot = root;
        emit MarketRootPosted(epoch, root);
    }

    /// @notice Register or replace `account`'s commitment (venue only). The account's previous
    ///         commitment is forgotten (it can no longer be proven) and the solvency record
    ///         starts empty, also when the same commitment is registered again.
    /// @param account    The trading account.
    /// @param commitment `account_commitment`; 0 < commitment < r, not registered to another account.
    function registerAccount(address account, uint256 commitment) external onlyVenue {
        if (commitment == 0 || commitment >= R) revert NotInScalarField(commitment);
        uint256 previous = commitmentOf[account];
        if (previous != commitment) {
            if (_record[commitment] != 0) revert CommitmentTaken(commitment);
            if (previous != 0) delete _record[previous];
            commitmentOf[account] = commitment;
        }
        _record[commitment] = REGISTERED;
        emit AccountRegistered(account, commitment);
    }

    /// @notice Prove that the account committed to by `accountCommitment` is solvent against
    ///         the current market root.
    /// @dev Public inputs are `[accountCommitment, currentRoot]`, in the circuit's order.
    ///      `b` is in EVM precompile order: `[[x_im, x_re], [y_im, y_re]]`.
    ///      Storage: reads the commitment's record and `currentRoot` (two cold slots), writes the
    ///      record (now warm, non-zero to non-zero).
    /// @param a Proof point A (G1).
    /// @param b Proof point B (G2).
    /// @param c Proof point C (G1).
    /// @param accountCommitment A commitment registered by the venue.
    function proveSolvent(
        uint256[2] calldata a,
        uint256[2][2] calldata b,
        uint256[2] calldata c,
        uint256 accountCommitment
    ) external {
        uint256 record = _record[accountCommitment];
        if (record == 0) revert UnknownCommitment(accountCommitment);
        uint256 root = currentRoot;
        if (root == 0) revert NoMarketRoot();
        uint256 proven = REGISTERED | root;
        if (record == proven) revert AlreadyProven(accountCommitment, root);
        if (
            a[0] >= Q || a[1] >= Q || c[0] >= Q || c[1] >= Q
                || b[0][0] >= Q || b[0][1] >= Q || b[1][0] >= Q || b[1][1] >= Q
        ) revert NotInBaseField();
        // A registered commitment is < r (checked in registerAccount), so it is a valid input.
        if (!verifier.verifyProof(a, b, c, [accountCommitment, root])) revert InvalidProof();
        _record[accountCommitment] = proven;
        emit ProvenSolvent(accountCommitment, root);
    }

    /// @notice Whether `commitment` is currently registered (provable).
    function isRegistered(uint256 commitment) external view returns (bool) {
        return _record[commitment] != 0;
    }

    /// @notice The root `commitment` was last proven against (0 = never, or not registered).
    function lastProvenRoot(uint256 commitment) public view returns (uint256) {
        return _record[commitment] & ~REGISTERED;
    }

    /// @notice The epoch in which `commitment` was last proven solvent (0 = never, or not registered).
    function lastSolventEpoch(uint256 commitment) external view returns (uint64) {
        return epochOfRoot[lastProvenRoot(commitment)];
    }
}
