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
/// @notice Records which accounts proved, in zero knowledge, that they meet the zksolv
///         margin rule against the venue's current market state.
/// @dev Trust model and choices (see docs/onchain.md):
///      - The venue (deployer, immutable `venue`) posts one market root per epoch; epochs
///        strictly increase and start at 1 (0 means "no root yet" / "never proven").
///      - The venue, not the trader, registers account commitments: a commitment is only
///        meaningful if it commits to the positions and balances the venue actually holds
///        for that account. Self-registration would let a trader prove solvency of an
///        invented portfolio. Re-registering (positions changed) clears the solvency record.
///      - Anyone may submit a proof (the trader or a keeper): the proof is the authorisation.
///        It is checked against the CURRENT root and the STORED commitment, so a proof made
///        for an older root, or for another account, fails.
///      - A second proof for the same account in the same epoch reverts (`AlreadyProven`)
///        instead of silently succeeding, so callers never pay ~200k gas for a no-op.
///      - Field elements are canonical: commitments and roots must be < r (checked once, when
///        stored), proof coordinates < q (checked per proof, before the pairing).
contract SolvencyRegistry {
    /// @dev BN254 scalar field order r (public inputs live in F_r).
    uint256 internal constant R = 21888242871839275222246405745257275088548364400416034343698204186575808495617;
    /// @dev BN254 base field order q (proof coordinates live in F_q).
    uint256 internal constant Q = 21888242871839275222246405745257275088696311157297823662689037894645226208583;

    /// @notice The Groth16 verifier of the circuit tier this registry accepts.
    IGroth16Verifier2 public immutable verifier;
    /// @notice The venue: the only address that posts roots and registers accounts.
    address public immutable venue;

    /// @notice Market root of the current epoch (0 before the first post).
    uint256 public currentRoot;
    /// @notice Current epoch (0 before the first post).
    uint64 public currentEpoch;
    /// @notice Registered account commitment per account (0 = unknown account).
    mapping(address => uint256) public commitmentOf;
    /// @notice Last epoch in which the account proved solvency (0 = never).
    mapping(address => uint64) public lastSolventEpoch;

    /// @notice A new market root was posted.
    event MarketRootPosted(uint64 indexed epoch, uint256 root);
    /// @notice The venue (re-)registered an account's commitment.
    event AccountRegistered(address indexed account, uint256 commitment);
    /// @notice `account` proved solvency against `root` of `epoch`.
    event ProvenSolvent(address indexed account, uint64 indexed epoch, uint256 root);

    /// @notice Caller is not the venue.
    error NotVenue();
    /// @notice `epoch` is not greater than the current epoch.
    error EpochNotIncreasing(uint64 epoch, uint64 current);
    /// @notice A public value (commitment, root) is not a canonical element of F_r, or zero.
    error NotInScalarField(uint256 value);
    /// @notice A proof coordinate is not a canonical element of F_q.
    error NotInBaseField();
    /// @notice No commitment is registered for `account`.
    error UnknownAccount(address account);
    /// @notice No market root has been posted yet.
    error NoMarketRoot();
    /// @notice `account` already proved solvency in `epoch`.
    error AlreadyProven(address account, uint64 epoch);
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
    /// @param root  `market_root` of that epoch; 0 < root < r.
    function postMarketRoot(uint64 epoch, uint256 root) external onlyVenue {
        uint64 current = currentEpoch;
        if (epoch <= current) revert EpochNotIncreasing(epoch, current);
        if (root == 0 || root >= R) revert NotInScalarField(root);
        currentEpoch = epoch;
        currentRoot = root;
        emit MarketRootPosted(epoch, root);
    }

    /// @notice Register or replace `account`'s commitment (venue only); clears its solvency record.
    /// @param account    The trading account.
    /// @param commitment `account_commitment`; 0 < commitment < r.
    function registerAccount(address account, uint256 commitment) external onlyVenue {
        if (commitment == 0 || commitment >= R) revert NotInScalarField(commitment);
        commitmentOf[account] = commitment;
        if (lastSolventEpoch[account] != 0) lastSolventEpoch[account] = 0;
        emit AccountRegistered(account, commitment);
    }

    /// @notice Prove that `account` is solvent in the current epoch.
    /// @dev Public inputs are `[commitmentOf[account], currentRoot]`, in the circuit's order.
    ///      `b` is in EVM precompile order: `[[x_im, x_re], [y_im, y_re]]`.
    /// @param a Proof point A (G1).
    /// @param b Proof point B (G2).
    /// @param c Proof point C (G1).
    /// @param account The account whose registered commitment the proof is about.
    function proveSolvent(
        uint256[2] calldata a,
        uint256[2][2] calldata b,
        uint256[2] calldata c,
        address account
    ) external {
        uint256 commitment = commitmentOf[account];
        if (commitment == 0) revert UnknownAccount(account);
        uint64 epoch = currentEpoch;
        if (epoch == 0) revert NoMarketRoot();
        if (lastSolventEpoch[account] == epoch) revert AlreadyProven(account, epoch);
        if (
            a[0] >= Q || a[1] >= Q || c[0] >= Q || c[1] >= Q
                || b[0][0] >= Q || b[0][1] >= Q || b[1][0] >= Q || b[1][1] >= Q
        ) revert NotInBaseField();
        uint256 root = currentRoot;
        if (!verifier.verifyProof(a, b, c, [commitment, root])) revert InvalidProof();
        lastSolventEpoch[account] = epoch;
        emit ProvenSolvent(account, epoch, root);
    }
}
