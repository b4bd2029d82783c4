"""Role scopes never widen on a missing claim: `allow` refuses a scoped role's token without every
claim its role needs, and `jurisdiction: "*"` only prosecutors and courts may hold."""

import pytest

from divert_platform.auth import Principal, Role, allow, covers_all_jurisdictions
from divert_platform.problems import Forbidden


async def admitted(role: Role, agency: str | None = None, jurisdiction: str | None = None) -> Principal:
    """The caller `allow(role)` returns for a token with these claims (or its `Forbidden`)."""
    return await allow(role)(Principal("someone", role, agency, jurisdiction))


@pytest.mark.parametrize(
    ("role", "agency", "jurisdiction", "missing"),
    [
        ("officer", None, "king-county", "agency"),
        ("officer", "SPD", None, "jurisdiction"),
        ("case_manager", None, "king-county", "agency"),
        ("program_manager", "SPD", None, "jurisdiction"),
        ("prosecutor", None, None, "jurisdiction"),
        ("court", "SPD", None, "jurisdiction"),
    ],
)
async def test_a_token_without_a_claim_its_role_needs_is_refused_naming_it(
    role: Role, agency: str | None, jurisdiction: str | None, missing: str
) -> None:
    with pytest.raises(Forbidden) as refused:
        await admitted(role, agency, jurisdiction)
    assert refused.value.extensions == {"claim": missing}
    assert f"`{missing}` claim" in refused.value.detail


@pytest.mark.parametrize(("role", "agency"), [("officer", "SPD"), ("program_manager", None), ("case_manager", "X")])
async def test_only_prosecutors_and_courts_may_hold_every_jurisdiction(role: Role, agency: str | None) -> None:
    with pytest.raises(Forbidden) as refused:
        await admitted(role, agency, "*")
    assert refused.value.extensions == {"claim": "jurisdiction"}


@pytest.mark.parametrize("role", ["prosecutor", "court"])
async def test_a_prosecutor_or_court_holds_one_jurisdiction_or_all_with_a_star(role: Role) -> None:
    statewide = await admitted(role, jurisdiction="*")
    county = await admitted(role, jurisdiction="king-county")
    assert covers_all_jurisdictions(statewide)
    assert not covers_all_jurisdictions(county)


async def test_every_scoped_role_is_admitted_with_its_claims() -> None:
    assert (await admitted("officer", "SPD", "king-county")).agency == "SPD"
    assert (await admitted("case_manager", "reach")).agency == "reach"
    assert (await admitted("program_manager", jurisdiction="king-county")).jurisdiction == "king-county"
    assert (await admitted("service")).role == "service"  # unscoped roles need no claim


def test_a_star_held_by_another_role_never_covers_every_jurisdiction() -> None:
    # Defence in depth: should a route ever skip `allow`, "*" still widens nothing for them.
    assert not covers_all_jurisdictions(Principal("o", "officer", "SPD", "*"))
    assert not covers_all_jurisdictions(Principal("p", "program_manager", None, "*"))
