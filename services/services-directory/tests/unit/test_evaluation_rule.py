"""Which service referrals the evaluation report shows: never Part 2 information, whether the
referral is labelled `part2` or its need is a Part 2 one."""

import pytest

from divert_directory.domain.evaluation import protected, shown_to_evaluators


@pytest.mark.parametrize(
    ("need", "part2", "shown"),
    [
        ("housing", False, True),
        ("food", False, True),
        ("substance_use_treatment", True, False),
        ("substance_use_treatment", False, False),  # the need alone protects it, whatever the label
        ("mental_health", True, False),  # the label alone protects it, whatever the need
    ],
)
def test_only_referrals_that_are_not_part2_information_are_shown(need: str, part2: bool, shown: bool) -> None:
    assert shown_to_evaluators(need, part2) is shown
    assert protected(need, part2) is not shown
