"""The circuit tiers the soundness suites (tampering, static analysis) run on: one list, so a
tier added for one suite is checked by the other too."""

from __future__ import annotations

from zksolv.toolchain.circuitgen import Tier
from zksolv.core.market import RiskMode

STRESS, ES, VAR, REVAL = RiskMode.STRESS, RiskMode.ES, RiskMode.VAR, RiskMode.REVALUATION

#: name -> tier: every mode at U = 1 (depth 1) and U = 2 (depth 2), "wide" ones where every
#: dimension exceeds 2 (U = 3 exercises OneHot's hint path), and one whose cap is 2 levels
#: (CapSelect(6) and MerkleCapRoot(2), as every tier or chunk of 16+ positions at depth >= 2;
#: the others have cap 1), and two grouped ones (GroupedOpenings: leaves through G groups of 8,
#: one with zero-length group paths, one whose groups climb a level below their cap).
SOUNDNESS_TIERS: dict[str, Tier] = {
    "stress_u1_d1": Tier(2, 1, 2, 4, 1, STRESS),
    "stress_u2_d2": Tier(2, 2, 2, 4, 2, STRESS),
    "es_u1_d1": Tier(2, 1, 2, 4, 1, ES),
    "es_u2_d2": Tier(2, 2, 2, 4, 2, ES),
    "var_u1_d1": Tier(2, 1, 2, 4, 1, VAR),
    "var_u2_d2": Tier(2, 2, 2, 4, 2, VAR),
    "reval_u1_d1": Tier(2, 1, 2, 4, 1, REVAL),
    "reval_u2_d2": Tier(2, 2, 2, 4, 2, REVAL),
    "stress_wide": Tier(4, 3, 3, 8, 3, STRESS),
    "es_wide": Tier(4, 3, 3, 8, 3, ES),
    "var_wide": Tier(4, 3, 3, 8, 3, VAR),
    "reval_wide": Tier(4, 3, 3, 8, 3, REVAL),
    "stress_cap2": Tier(10, 2, 2, 4, 2, STRESS),
    "stress_g2_d2": Tier(4, 2, 2, 4, 2, STRESS, groups=2),
    "var_g3_d3": Tier(4, 2, 2, 4, 3, VAR, groups=3),
}
