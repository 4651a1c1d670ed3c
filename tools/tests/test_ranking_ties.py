"""tools/parity/ranking.py: a ranking differing from the reference only between candidates within the tolerance is
a near tie; one resting on such candidates is a near tie whichever way it came out; beyond the tolerance it differs."""

import pytest
from ranking import compare


@pytest.mark.parametrize(
    ("ref", "golds", "top", "rank", "verdict"),
    [
        ([-1, -2, -3], [0], [0, 1, 2], 1, "identical"),
        ([-1.0, -1.00000095, -3], [0], [1, 0, 2], 2, "near-tie"),
        ([-1.0, -1.00000095, -3], [0], [0, 1, 2], 1, "near-tie"),
        ([-1, -2, -3.00000002, -3], [0], [0, 1, 2], 1, "near-tie"),
        ([-1, -1.5, -3], [0], [1, 0, 2], 2, "differs"),
        ([-1.0, -1.00000095, -3], [0], [0, 1, 2], 3, "differs"),
        ([-1, None, -3], [0], [0, 1, 2], 1, "differs"),
    ],
)
def test_near_ties_are_told_from_differences(ref, golds, top, rank, verdict):
    assert compare(ref, golds, top, rank, 1e-4) == verdict


def test_the_harness_side_of_a_tie_counts_too():
    assert compare([-1.0, -1.0002, -5], [2], [1, 0, 2], 3, 1e-4, {0: -1.00009, 1: -1.00008, 2: -5}) == "near-tie"
    assert compare([-1.0, -1.0002, -5], [2], [1, 0, 2], 3, 1e-4) == "differs"
