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

/// @notice The batch verifier zksolv generates for the same key (`Groth16BatchVerifier`):
///         9 words per proof (a, b in EVM order, c, commitment), all against `root`.
interface IGroth16BatchVerifier {
    function verifyBatch(uint256[] calldata members, uint256 root) external view returns (bool);
}

/// @notice One circuit tier the venue accepts: the position capacity of its single-circuit
///         AvslSolvency (e.g. 4, 16, 64) and the two verifiers generated from its key.
struct AcceptedTier {
    uint256 capacity;
    IGroth16Verifier2 verifier;
    IGroth16BatchVerifier batchVerifier;
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
///        when stored), proof coordinates < q (checked per proof, before any precompile). A
///        single proof's points must be on their curves (`NotOnCurve`, checked here: a point the
///        pairing precompile refuses burns the gas it is given); a batch member's are refused
///        by the batch verifier's gas-capped precompiles (`PointNotOnCurve`, `PairingInputInvalid`).
///      - `proveSolventBatch` records N proofs with one pairing product (the batch verifier);
///        an invalid member reverts the whole batch, a member already proven for the current
///        root is skipped (so a trader proving alone cannot make a keeper's batch revert), and
///        a batch of nothing but such members (a replay) reverts.
///      - Each root comes with a proof window (at most `MAX_PROOF_WINDOW`); a new root cannot be
///        posted while it is open (`ProofWindowOpen`), so the root an account must prove against
///        never changes during its window. After its deadline anyone may mark a registered
///        commitment that has not proven as liquidatable (`markLiquidatable`, event
///        `Liquidatable`), once per epoch: for the current epoch, or, while the current epoch's
///        window is still open for it, for the previous one (so posting the next root right
///        after a deadline does not erase the previous epoch's marks).
///      - One grace per account between two proofs: a commitment registered after its epoch's
///        root was posted carries its own deadline in its record (`LATE`): max(epoch deadline,
///        registration time + window) for a new account, or one whose previous commitment
///        proved against the current root, or has taken no grace since its last proof, is not
///        yet due and did not miss the previous epoch; otherwise the previous commitment's
///        deadline (a trade never postpones being due), and a previous-epoch miss moves to the
///        new commitment (its record reads "late in that epoch, due before the current root").
///        A standing mark moves to the new commitment; only a proof clears it. Registering
///        the commitment an account already has changes nothing.
///      - The book's size is private up to the venue's buckets: the registry accepts exactly the
///        tiers (position capacities) the venue names at construction, one verifier and one
///        batch verifier per tier, and every proof names its tier. A tier the venue does not
///        accept reverts `UnknownTier`; a proof checked with another tier's key fails. So the
///        chain learns the bucket a prover padded to, nothing finer.
///      - At most `MAX_TIERS` (4) tiers, held in immutables (code, not storage): the tier lookup
///        is a chain of at most four comparisons against constants, no SLOAD. Unused slots
///        repeat the last tier, so a lookup never lands on an empty verifier.
contract SolvencyRegistry {
    /// @dev BN254 scalar field order r (public inputs live in F_r).
    uint256 internal constant R = 21888242871839275222246405745257275088548364400416034343698204186575808495617;
    /// @dev BN254 base field order q (proof coordinates live in F_q).
    uint256 internal constant Q = 21888242871839275222246405745257275088696311157297823662689037894645226208583;
    /// @dev q - 1: `gt(x, QM1)` is one opcode for x >= q.
    uint256 internal constant QM1 = 21888242871839275222246405745257275088696311157297823662689037894645226208582;
    /// @dev Bit 255 of a commitment record: the commitment is registered. Bits 0..253 hold the
    ///      root the commitment was last proven against (0 = never).
    uint256 internal constant REGISTERED = 1 << 255;
    /// @dev b' = 3 / (9 + u), the constant of the G2 twist y^2 = x^3 + b' (real, imaginary part).
    uint256 internal constant TWIST_B0 = 19485874751759354771024239261021720505790618469301721065564631296452457478373;
    uint256 internal constant TWIST_B1 = 266929791119991161246907387137283842545076965332900288569378510910307636690;
    /// @dev Bit 254 of a record: registered after the root of epoch `uint64(record >> 64)` was
    ///      posted and not proven since; bits 0..63 hold its own deadline in that epoch. A record
    ///      without it holds the root last proven against in bits 0..253 (roots are < 2^254).
    uint256 internal constant LATE = 1 << 254;
    /// @notice Longest proof window the venue may set (a mistyped window would otherwise block
    ///         the next root for as long).
    uint64 public constant MAX_PROOF_WINDOW = 7 days;
    /// @dev Shortest proof window the venue may set (internal: one more public function would
    ///      lengthen every call's dispatch; `ProofWindowTooShort` names it): a trader's prover needs minutes for a
    ///         proof (tens of seconds per circuit on a laptop, more at the largest tier) and its
    ///         transaction a few blocks; one hour leaves room for both plus congestion, so a
    ///         careless (or hostile) 0 s window cannot expose every account at once.
    uint64 internal constant MIN_PROOF_WINDOW = 1 hours;
    /// @dev Gas given to a tier's single verifier (`verifyProof`): its pairing of four pairs
    ///      (45,000 + 4 x 34,000), two ecMul, ecAdds and its own code use ~195,000. A B outside
    ///      G2 (which no cheap check refuses) makes the pairing precompile burn what it is given,
    ///      so at most this, not the transaction's gas limit.
    uint256 internal constant VERIFY_GAS = 200_000;

    /// @dev Most tiers one registry accepts (the number of immutable slots below).
    uint256 internal constant MAX_TIERS = 4;

    /// @dev The accepted tiers, in increasing capacity; slots past `_tierCount` repeat the last
    ///      tier. Internal, like the record and mark mappings below: every public function is one
    ///      more branch in the selector dispatch, and with more than 16 the single `proveSolvent`
    ///      would pay one more comparison (measured: +23 gas). `acceptedTiers()` lists them.
    uint256 internal immutable _tierCount;
    uint256 internal immutable _capacity0;
    uint256 internal immutable _capacity1;
    uint256 internal immutable _capacity2;
    uint256 internal immutable _capacity3;
    IGroth16Verifier2 internal immutable _verifier0;
    IGroth16Verifier2 internal immutable _verifier1;
    IGroth16Verifier2 internal immutable _verifier2;
    IGroth16Verifier2 internal immutable _verifier3;
    IGroth16BatchVerifier internal immutable _batchVerifier0;
    IGroth16BatchVerifier internal immutable _batchVerifier1;
    IGroth16BatchVerifier internal immutable _batchVerifier2;
    IGroth16BatchVerifier internal immutable _batchVerifier3;
    /// @notice The venue: the only address that posts roots and registers accounts.
    address public immutable venue;

    /// @notice Market root of the current epoch (0 before the first post).
    uint256 public currentRoot;
    /// @notice Current epoch (0 before the first post).
    uint64 public currentEpoch;
    /// @notice End of the current epoch's proof window (unix seconds, inclusive) for every
    ///         commitment registered before its root was posted; shares `currentEpoch`'s slot.
    uint64 public proofDeadline;
    /// @notice The current epoch's proof window (seconds): a commitment registered after the
    ///         root was posted is due by max(`proofDeadline`, registration time + this).
    uint64 public currentProofWindow;
    /// @notice When the current root was posted (unix seconds).
    uint64 public rootPostedAt;
    /// @notice The root of the epoch before the current one (0 = none): its non-provers stay
    ///         markable while the current window is open for them.
    uint256 public previousRoot;
    /// @notice Epoch in which `root` was posted (0 = never posted).
    mapping(uint256 root => uint64 epoch) public epochOfRoot;
    /// @notice Registered commitment per account (0 = none); bookkeeping for the venue,
    ///         not read by `proveSolvent`.
    mapping(address account => uint256 commitment) public commitmentOf;
    /// @dev Per commitment: `REGISTERED | lastProvenRoot`, or 0 if not registered.
    mapping(uint256 commitment => uint256 record) internal _record;
    /// @dev The epoch for which a commitment was last marked liquidatable (0 = never); the
    ///      `Liquidatable` event is how the venue learns it, `liquidatableEpoch` reads it.
    mapping(uint256 commitment => uint64 epoch) internal _liquidatableEpoch;

    /// @notice A new market root was posted; proofs against it are due by `proofDeadline`.
    event MarketRootPosted(uint64 indexed epoch, uint256 root, uint64 proofDeadline);
    /// @notice The venue (re-)registered an account's commitment.
    event AccountRegistered(address indexed account, uint256 indexed commitment);
    /// @notice `accountCommitment` proved solvency against `root` (the current root; its epoch
    ///         is `epochOfRoot(root)`, not emitted because reading it would cost a cold SLOAD).
    event ProvenSolvent(uint256 indexed accountCommitment, uint256 root);
    /// @notice `accountCommitment` had not proven solvency against `root` (epoch `epoch`) when its
    ///         proof window closed: the venue's liquidation engine takes it from here.
    event Liquidatable(uint256 indexed accountCommitment, uint64 indexed epoch, uint256 root);
    /// @notice A batch member was skipped: `commitment` is no longer registered (its account was
    ///         re-registered after the keeper read it). Nothing is recorded for it.
    event StaleMember(uint256 indexed commitment);

    /// @notice Caller is not the venue.
    error NotVenue();
    /// @notice `tier` is not a position capacity this registry accepts (the venue's tier list).
    error UnknownTier(uint256 tier);
    /// @notice The constructor needs between 1 and `max` tiers; `count` were given.
    error BadTierCount(uint256 count, uint256 max);
    /// @notice Tier capacities must be nonzero and strictly increasing; `index` is the first that is not.
    error TiersNotIncreasing(uint256 index);
    /// @notice A verifier or batch verifier of tier `capacity` has no code (not deployed yet?).
    error NoVerifierCode(uint256 capacity);
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
    /// @notice The verifier rejected the proof for (commitment, current root); in a batch, at
    ///         least one member's proof.
    error InvalidProof();
    /// @notice A batch is empty or its proof and commitment counts differ.
    error BadBatch();
    /// @notice Batch commitments must be strictly increasing (this also refuses duplicates);
    ///         `index` is the first one out of order.
    error CommitmentsNotIncreasing(uint256 index);
    /// @notice Every member of the batch was already proven against `root` (a replayed batch).
    error NothingToProve(uint256 root);
    /// @notice The proof window is still open until `deadline`: for a mark, the window of the
    ///         commitment (its own deadline if registered late); for a new root, the current
    ///         epoch's window (a root cannot be replaced while accounts may prove against it).
    error ProofWindowOpen(uint64 deadline);
    /// @notice `window` is longer than `MAX_PROOF_WINDOW` (`max`) seconds.
    error ProofWindowTooLong(uint64 window, uint64 max);
    /// @notice `window` is shorter than `MIN_PROOF_WINDOW` (`min`) seconds.
    error ProofWindowTooShort(uint64 window, uint64 min);
    /// @notice A proof point is not on BN254 (G1 for a and c, the twist for b), nor the point at
    ///         infinity (0, 0): the precompile would fail and burn the gas it was given.
    error NotOnCurve();
    /// @notice Batch member `index` (position in the caller's arrays) has a proof coordinate >= q.
    error MemberNotInBaseField(uint256 index);
    /// @notice (From the batch verifier, bubbled up) A or C of the batch member for `commitment`
    ///         is not on G1: refused at its ecMul, whose gas is capped.
    error PointNotOnCurve(uint256 commitment);
    /// @notice (From the batch verifier, bubbled up) the pairing precompile refused the batch: a
    ///         member's B is off the twist or outside G2. Its gas is capped too.
    error PairingInputInvalid();
    /// @notice `commitment` was already marked liquidatable in `epoch`.
    error AlreadyMarked(uint256 commitment, uint64 epoch);

    /// @param tiers The tiers the venue accepts (1 to `MAX_TIERS`), in strictly increasing
    ///        capacity, each with the verifier and batch verifier `zksolv export-solidity`
    ///        generated from that tier's key (deployed before the registry).
    constructor(AcceptedTier[] memory tiers) {
        uint256 n = tiers.length;
        if (n == 0 || n > MAX_TIERS) revert BadTierCount(n, MAX_TIERS);
        uint256 previous;
        for (uint256 i; i < n; ++i) {
            AcceptedTier memory t = tiers[i];
            if (t.capacity <= previous) revert TiersNotIncreasing(i);
            if (address(t.verifier).code.length == 0 || address(t.batchVerifier).code.length == 0) {
                revert NoVerifierCode(t.capacity);
            }
            previous = t.capacity;
        }
        _tierCount = n;
        AcceptedTier memory last = tiers[n - 1];
        AcceptedTier memory t1 = n > 1 ? tiers[1] : last;
        AcceptedTier memory t2 = n > 2 ? tiers[2] : last;
        (_capacity0, _verifier0, _batchVerifier0) = (tiers[0].capacity, tiers[0].verifier, tiers[0].batchVerifier);
        (_capacity1, _verifier1, _batchVerifier1) = (t1.capacity, t1.verifier, t1.batchVerifier);
        (_capacity2, _verifier2, _batchVerifier2) = (t2.capacity, t2.verifier, t2.batchVerifier);
        (_capacity3, _verifier3, _batchVerifier3) = (last.capacity, last.verifier, last.batchVerifier);
        venue = msg.sender;
    }

    modifier onlyVenue() {
        if (msg.sender != venue) revert NotVenue();
        _;
    }

    /// @notice Post the market root of a new epoch (venue only).
    /// @param epoch Must be greater than `currentEpoch` (so the first epoch is >= 1).
    /// @param root  `market_root` of that epoch; 0 < root < r, never posted before.
    /// @param proofWindow Seconds from now (at most `MAX_PROOF_WINDOW`) during which accounts must
    ///        prove against `root`; after that, `markLiquidatable` applies. A commitment
    ///        registered later gets this many seconds from its registration.
    /// @dev Reverts `ProofWindowOpen` while the current epoch's window is open (until
    ///      `proofDeadline` inclusive): replacing the root would leave the accounts that have not
    ///      proven yet without the root they were given a window for.
    function postMarketRoot(uint64 epoch, uint256 root, uint64 proofWindow) external onlyVenue {
        uint64 current = currentEpoch;
        if (epoch <= current) revert EpochNotIncreasing(epoch, current);
        if (root == 0 || root >= R) revert NotInScalarField(root);
        if (proofWindow > MAX_PROOF_WINDOW) revert ProofWindowTooLong(proofWindow, MAX_PROOF_WINDOW);
        if (proofWindow < MIN_PROOF_WINDOW) revert ProofWindowTooShort(proofWindow, MIN_PROOF_WINDOW);
        uint64 earlier = epochOfRoot[root];
        if (earlier != 0) revert RootAlreadyPosted(root, earlier);
        uint64 open = proofDeadline;
        if (current != 0 && block.timestamp <= open) revert ProofWindowOpen(open);
        epochOfRoot[root] = epoch;
        uint64 deadline = uint64(block.timestamp) + proofWindow;
        (currentEpoch, proofDeadline, currentProofWindow, rootPostedAt) = (epoch, deadline, proofWindow, uint64(block.timestamp));
        previousRoot = currentRoot;
        currentRoot = root;
        emit MarketRootPosted(epoch, root, deadline);
    }

    /// @notice Register or replace `account`'s commitment (venue only). The account's previous
    ///         commitment is forgotten (it can no longer be proven or marked) and the new one's
    ///         record starts unproven. A commitment registered after the current root was posted is
    ///         due by max(`proofDeadline`, now + `currentProofWindow`) (the grace), unless the
    ///         account's previous commitment neither proved against the current root nor can
    ///         still take the grace (took one since its last proof, in any epoch, or its deadline
    ///         passed): then by that commitment's deadline. The previous commitment's standing
    ///         mark moves to the new one, and so does a miss of the previous epoch not yet marked.
    ///         Registering the commitment the account already has changes nothing (its proof and
    ///         deadline stay; the event is emitted again), so a retried or repeated registration
    ///         neither erases a proof nor extends a window.
    /// @param account    The trading account.
    /// @param commitment `account_commitment`; 0 < commitment < r, not registered to another account.
    function registerAccount(address account, uint256 commitment) external onlyVenue {
        if (commitment == 0 || commitment >= R) revert NotInScalarField(commitment);
        uint256 previous = commitmentOf[account];
        if (previous != commitment) {
            if (_record[commitment] != 0) revert CommitmentTaken(commitment);
            uint64 epoch = currentEpoch;
            uint64 deadline = proofDeadline;
            uint64 mark;
            uint256 record = REGISTERED;
            if (previous != 0) {
                uint256 old = _record[previous];
                mark = _standingMark(previous, old);
                delete _record[previous];
                if (epoch != 0 && old != REGISTERED | currentRoot) {
                    // not proven against the current root: one grace between two proofs (LATE: a
                    // grace was taken since the last proof, in this epoch or an earlier one whose
                    // root moved on), and none once its deadline has passed (it is due; a trade
                    // does not undo that)
                    uint64 due = _deadlineIn(old, epoch, deadline);
                    if (old & LATE != 0 || block.timestamp > due) {
                        record = REGISTERED | LATE | (uint256(epoch) << 64) | due;
                    }
                    if (block.timestamp <= due) {
                        // the previous epoch's miss moves with the account (as a mark would): the
                        // new record says "registered in that epoch, own deadline before the
                        // current root", which markLiquidatable's previous-epoch rule marks, and
                        // is due by `proofDeadline` in this one
                        (bool missed, uint64 previousEpoch) = _missedPrevious(old);
                        if (missed) {
                            record = REGISTERED | LATE | (uint256(previousEpoch) << 64) | (rootPostedAt - 1);
                        }
                    }
                }
            }
            if (record == REGISTERED && epoch != 0) {
                uint64 due = uint64(block.timestamp) + currentProofWindow;
                if (due < deadline) due = deadline;
                record = REGISTERED | LATE | (uint256(epoch) << 64) | due;
            }
            commitmentOf[account] = commitment;
            _record[commitment] = record;
            // the account's standing mark follows it; a stale mark of this commitment goes
            if (mark != 0 || _liquidatableEpoch[commitment] != 0) _liquidatableEpoch[commitment] = mark;
        }
        emit AccountRegistered(account, commitment);
    }

    /// @notice Prove that the account committed to by `accountCommitment` is solvent against
    ///         the current market root.
    /// @dev Public inputs are `[accountCommitment, currentRoot]`, in the circuit's order.
    ///      `b` is in EVM precompile order: `[[x_im, x_re], [y_im, y_re]]`.
    ///      Storage: reads the commitment's record and `currentRoot` (two cold slots), writes the
    ///      record (now warm, non-zero to non-zero).
    ///      Reverts `UnknownTier` for a tier the venue does not accept, before anything else.
    /// @param tier The position capacity of the circuit the proof was made in (an accepted tier).
    /// @param a Proof point A (G1).
    /// @param b Proof point B (G2).
    /// @param c Proof point C (G1).
    /// @param accountCommitment A commitment registered by the venue.
    function proveSolvent(
        uint256 tier,
        uint256[2] calldata a,
        uint256[2][2] calldata b,
        uint256[2] calldata c,
        uint256 accountCommitment
    ) external {
        // The tier lookup, inlined (an internal call costs 30 gas more, measured): one comparison
        // with an immutable per slot, so 38 gas in the first slot and 23 more per later one.
        IGroth16Verifier2 verifier;
        if (tier == _capacity0) verifier = _verifier0;
        else if (tier == _capacity1) verifier = _verifier1;
        else if (tier == _capacity2) verifier = _verifier2;
        else if (tier == _capacity3) verifier = _verifier3;
        else revert UnknownTier(tier);
        uint256 record = _record[accountCommitment];
        if (record == 0) revert UnknownCommitment(accountCommitment);
        uint256 root = currentRoot;
        if (root == 0) revert NoMarketRoot();
        uint256 proven = REGISTERED | root;
        if (record == proven) revert AlreadyProven(accountCommitment, root);
        // The 8 coordinates < q and the three points on their curves, before the pairing (a
        // point the precompile refuses would burn the gas it was given).
        {
            uint256 offA;
            uint256 offB;
            uint256 offC;
            assembly ("memory-safe") {
                offA := a
                offB := b
                offC := c
            }
            uint256 defect = _proofDefect(offA, offB, offC);
            if (defect != 0) {
                if (defect & 1 != 0) revert NotInBaseField();
                revert NotOnCurve();
            }
        }
        // A registered commitment is < r (checked in registerAccount), so it is a valid input.
        if (!verifier.verifyProof{gas: VERIFY_GAS}(a, b, c, [accountCommitment, root])) revert InvalidProof();
        _record[accountCommitment] = proven;
        emit ProvenSolvent(accountCommitment, root);
    }

    /// @notice Prove N registered accounts solvent against the current root in one transaction,
    ///         with one pairing product (the batch verifier of their tier).
    /// @dev `proofs[i]` is `[a.x, a.y, b.x_im, b.x_re, b.y_im, b.y_re, c.x, c.y]` (b in EVM
    ///      order) for `commitments[i]`; commitments strictly increasing (no duplicates). A
    ///      member already proven against the current root is skipped (not checked, not
    ///      re-recorded), and a batch with nothing else reverts (`NothingToProve`: a replay);
    ///      any other failure reverts the whole batch: an unregistered commitment
    ///      (`UnknownCommitment`), a coordinate >= q (`MemberNotInBaseField(index)`, before any
    ///      precompile), a point off its curve (`PointNotOnCurve(commitment)` or
    ///      `PairingInputInvalid()` from the batch verifier, for the gas of one capped
    ///      precompile call), or an invalid proof among the rest (`InvalidProof`: the batch
    ///      check cannot say which; keepers check off chain first). Records and events are the
    ///      same as `proveSolvent`'s. Every member is of the one tier `tier` (one key, one
    ///      pairing product); a keeper sends one batch per tier.
    /// @param tier The position capacity every member's proof was made in (an accepted tier).
    /// @return proven How many commitments were newly recorded.
    function proveSolventBatch(uint256 tier, uint256[8][] calldata proofs, uint256[] calldata commitments)
        external
        returns (uint256 proven)
    {
        IGroth16BatchVerifier batchVerifier = _batchVerifierOf(tier);
        if (proofs.length == 0 || proofs.length != commitments.length) revert BadBatch();
        uint256 root = currentRoot;
        if (root == 0) revert NoMarketRoot();
        uint256 done = REGISTERED | root;
        uint256[] memory members;
        (members, proven) = _pendingMembers(proofs, commitments, done);
        if (proven == 0) revert NothingToProve(root);
        if (!batchVerifier.verifyBatch(members, root)) revert InvalidProof();
        for (uint256 k; k < proven; ++k) {
            uint256 c = members[9 * k + 8];
            _record[c] = done;
            emit ProvenSolvent(c, root);
        }
    }

    /// @notice Mark a registered commitment that missed its proof window as liquidatable
    ///         (anyone may call; once per epoch). Emits `Liquidatable` for the venue's
    ///         liquidation engine.
    ///         - After the commitment's deadline in the current epoch (`proofDeadlineOf`): it is
    ///           marked for the current epoch unless it proved against the current root.
    ///         - Before it: it is marked for the previous epoch if it was due then (registered
    ///           before that epoch's root was posted, or late with its own deadline passed before
    ///           the current root was posted) and proved neither against the previous root nor
    ///           against the current one since.
    /// @dev Reverts `UnknownCommitment`, `AlreadyProven` for an account that proved against the
    ///      current root, `ProofWindowOpen(its deadline)` when neither case applies (also for
    ///      one that proved against the previous root), `AlreadyMarked` the second time.
    function markLiquidatable(uint256 commitment) external {
        uint256 root = currentRoot;
        if (root == 0) revert NoMarketRoot();
        uint256 record = _record[commitment];
        if (record == 0) revert UnknownCommitment(commitment);
        uint64 epoch = currentEpoch;
        uint64 deadline = _deadlineIn(record, epoch, proofDeadline);
        if (record == REGISTERED | root) revert AlreadyProven(commitment, root);
        if (block.timestamp <= deadline) {
            // The current window is open for this commitment: was it due in the previous epoch?
            // (every "not due" answers with the one deadline that matters next: the current one)
            bool missed;
            (missed, epoch) = _missedPrevious(record);
            if (!missed) revert ProofWindowOpen(deadline);
            root = previousRoot;
        }
        if (_liquidatableEpoch[commitment] == epoch) revert AlreadyMarked(commitment, epoch);
        _liquidatableEpoch[commitment] = epoch;
        emit Liquidatable(commitment, epoch, root);
    }

    /// @notice The tiers this registry accepts, in increasing capacity, with their verifiers.
    function acceptedTiers() external view returns (AcceptedTier[] memory tiers) {
        AcceptedTier[MAX_TIERS] memory all = [
            AcceptedTier(_capacity0, _verifier0, _batchVerifier0),
            AcceptedTier(_capacity1, _verifier1, _batchVerifier1),
            AcceptedTier(_capacity2, _verifier2, _batchVerifier2),
            AcceptedTier(_capacity3, _verifier3, _batchVerifier3)
        ];
        tiers = new AcceptedTier[](_tierCount);
        for (uint256 i; i < tiers.length; ++i) {
            tiers[i] = all[i];
        }
    }

    /// @notice Whether `commitment` has proven solvency against the current root (this epoch).
    function isSolvent(uint256 commitment) external view returns (bool) {
        uint256 root = currentRoot;
        return root != 0 && _record[commitment] == REGISTERED | root;
    }

    /// @notice Whether `commitment` is currently registered (provable).
    function isRegistered(uint256 commitment) external view returns (bool) {
        return _record[commitment] != 0;
    }

    /// @notice The root `commitment` was last proven against (0 = never, or not registered).
    function lastProvenRoot(uint256 commitment) public view returns (uint256) {
        uint256 record = _record[commitment];
        return record & LATE != 0 ? 0 : record & ~REGISTERED;
    }

    /// @notice The epoch for which `commitment` was last marked liquidatable (0 = never). It is
    ///         liquidatable for the current epoch iff this equals `currentEpoch()`.
    function liquidatableEpoch(uint256 commitment) external view returns (uint64) {
        return _standingMark(commitment, _record[commitment]);
    }

    /// @dev The epoch of `commitment`'s mark (record `record`) unless a proof against that
    ///      epoch's root or a later one has since cleared it (0 = none).
    function _standingMark(uint256 commitment, uint256 record) internal view returns (uint64 mark) {
        mark = _liquidatableEpoch[commitment];
        if (mark != 0 && record & LATE == 0 && epochOfRoot[record & ~REGISTERED] >= mark) mark = 0;
    }

    /// @notice When `commitment`'s proof window in the current epoch ends (unix seconds,
    ///         inclusive): `proofDeadline()`, or later for a commitment registered after the
    ///         current root was posted. 0 if it is not registered or no root was posted.
    function proofDeadlineOf(uint256 commitment) external view returns (uint64) {
        uint256 record = _record[commitment];
        if (record == 0) return 0;
        return _deadlineIn(record, currentEpoch, proofDeadline);
    }

    /// @notice The epoch in which `commitment` was last proven solvent (0 = never, or not registered).
    function lastSolventEpoch(uint256 commitment) external view returns (uint64) {
        return epochOfRoot[lastProvenRoot(commitment)];
    }

    /// @dev Whether the commitment with `record` (registered, not proven against the current
    ///      root) was due in the previous epoch and proved neither against its root nor since:
    ///      registered before that root was posted, or late in that epoch with its own deadline
    ///      passed before the current root was posted (a commitment registered in the current
    ///      epoch did not exist then; one whose own window the current root cut short was not due).
    ///      Also returns that epoch.
    function _missedPrevious(uint256 record) internal view returns (bool missed, uint64 epoch) {
        uint256 root = previousRoot;
        if (root == 0 || record == REGISTERED | root) return (false, 0);
        epoch = epochOfRoot[root];
        if (record & LATE != 0) {
            uint64 registeredIn = uint64(record >> 64);
            if (registeredIn == currentEpoch || (registeredIn == epoch && uint64(record) >= rootPostedAt)) {
                return (false, epoch);
            }
        }
        missed = true;
    }

    /// @dev The deadline of the commitment with `record` in `epoch` whose deadline is
    ///      `epochDeadline`: its own if it was registered after that epoch's root was posted.
    function _deadlineIn(uint256 record, uint64 epoch, uint64 epochDeadline) internal pure returns (uint64) {
        if (record & LATE != 0 && uint64(record >> 64) == epoch) return uint64(record);
        return epochDeadline;
    }

    /// @dev 0 if the proof (a, b, c in calldata; b in EVM order) is well formed: every coordinate
    ///      < q (bit 0 set if not), a and c on G1 (y^2 = x^3 + 3) and b on the twist
    ///      (y^2 = x^3 + 3/(9+u) over F_q[u]/(u^2+1)), the point at infinity (all zero) allowed,
    ///      as the precompiles allow it (bit 1 set if not). Branch-free. Not checked: b in the r-torsion
    ///      subgroup (G2 has a cofactor; the pairing precompile checks it).
    function _proofDefect(uint256 a, uint256 b, uint256 c) internal pure returns (uint256 defect) {
        assembly ("memory-safe") {
            function onG1(x, y) -> ok {
                ok := or(eq(mulmod(y, y, Q), addmod(mulmod(mulmod(x, x, Q), x, Q), 3, Q)), iszero(or(x, y)))
            }
            let ax := calldataload(a)
            let ay := calldataload(add(a, 32))
            let cx := calldataload(c)
            let cy := calldataload(add(c, 32))
            let x1 := calldataload(b)
            let x0 := calldataload(add(b, 32))
            let y1 := calldataload(add(b, 64))
            let y0 := calldataload(add(b, 96))
            let field := or(
                or(or(iszero(lt(ax, Q)), iszero(lt(ay, Q))), or(iszero(lt(cx, Q)), iszero(lt(cy, Q)))),
                or(or(iszero(lt(x1, Q)), iszero(lt(x0, Q))), or(iszero(lt(y1, Q)), iszero(lt(y0, Q))))
            )
            // x^2 = (x0 + x1)(x0 - x1) + 2 x0 x1 u, x^3 = x^2 x, y^2 likewise (u^2 = -1)
            let s0 := mulmod(addmod(x0, x1, Q), addmod(x0, sub(Q, x1), Q), Q)
            let s1 := mulmod(addmod(x0, x0, Q), x1, Q)
            // x^3 + b' = (s0 x0 - s1 x1 + B0) + (s0 x1 + s1 x0 + B1) u; y^2 = t0 + t1 u
            let t0 := mulmod(addmod(y0, y1, Q), addmod(y0, sub(Q, y1), Q), Q)
            let t1 := mulmod(addmod(y0, y0, Q), y1, Q)
            let onTwist := and(
                eq(addmod(t0, mulmod(s1, x1, Q), Q), addmod(mulmod(s0, x0, Q), TWIST_B0, Q)),
                eq(t1, addmod(addmod(mulmod(s0, x1, Q), mulmod(s1, x0, Q), Q), TWIST_B1, Q))
            )
            onTwist := or(onTwist, iszero(or(or(x0, x1), or(y0, y1))))
            defect := or(field, shl(1, iszero(and(and(onG1(ax, ay), onG1(cx, cy)), onTwist))))
        }
    }

    /// @dev The members of a batch still to prove against the root of `done` (= REGISTERED | root),
    ///      as `verifyBatch` takes them (9 words each), and how many there are. Reverts for
    ///      commitments out of order or unregistered, and for a proof coordinate >= q
    ///      (`MemberNotInBaseField(i)`, before any precompile runs); skips those already proven.
    function _pendingMembers(uint256[8][] calldata proofs, uint256[] calldata commitments, uint256 done)
        internal
        returns (uint256[] memory members, uint256 count)
    {
        uint256 n = proofs.length;
        members = new uint256[](9 * n);
        uint256 previous;
        for (uint256 i; i < n; ++i) {
            uint256 c = commitments[i];
            if (c <= previous) revert CommitmentsNotIncreasing(i);
            previous = c;
            uint256 record = _record[c];
            if (record == 0) {
                // >= r: never registrable, a malformed member (refused as before)
                if (c >= R) revert UnknownCommitment(c);
                // re-registered since the keeper read it: skipped, never credited (the batch
                // verifier checks only the members copied below, each with its own commitment)
                emit StaleMember(c);
                continue;
            }
            if (record == done) continue;
            // every coordinate < q before any precompile (the single path's field check). Points off
            // their curves are refused by the batch verifier's capped precompile calls (checking
            // them here costs ~1,200 gas per member, measured); see docs/onchain.md
            uint256 defect;
            assembly ("memory-safe") {
                let p := add(proofs.offset, mul(i, 256))
                defect := or(
                    or(or(gt(calldataload(p), QM1), gt(calldataload(add(p, 32)), QM1)),
                       or(gt(calldataload(add(p, 64)), QM1), gt(calldataload(add(p, 96)), QM1))),
                    or(or(gt(calldataload(add(p, 128)), QM1), gt(calldataload(add(p, 160)), QM1)),
                       or(gt(calldataload(add(p, 192)), QM1), gt(calldataload(add(p, 224)), QM1))))
                if iszero(defect) {
                    let slot := add(members, add(32, mul(count, 288)))
                    calldatacopy(slot, p, 256)
                    mstore(add(slot, 256), c)
                }
            }
            if (defect != 0) revert MemberNotInBaseField(i);
            ++count;
        }
        assembly ("memory-safe") {
            mstore(members, mul(count, 9))
        }
    }

    /// @dev The batch verifier of `tier`: at most four comparisons with immutables (no SLOAD),
    ///      as in `proveSolvent`. Checked before the batch is read, so an unaccepted tier always
    ///      reverts `UnknownTier` (looking it up after the loop would save 89 gas per batch).
    function _batchVerifierOf(uint256 tier) internal view returns (IGroth16BatchVerifier) {
        if (tier == _capacity0) return _batchVerifier0;
        if (tier == _capacity1) return _batchVerifier1;
        if (tier == _capacity2) return _batchVerifier2;
        if (tier == _capacity3) return _batchVerifier3;
        revert UnknownTier(tier);
    }
}
