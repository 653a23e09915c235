"""Compare a field as read with its reference text: edit distance, and the spaces between words."""

from __future__ import annotations

from dataclasses import dataclass


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (insertions, deletions, substitutions, each 1)."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


@dataclass(frozen=True, slots=True)
class Spaces:
    """Spaces between words: in the reference, in the reading, and those that pair up."""

    ref: int
    read: int
    right: int


def count_spaces(ref: str, read: str) -> Spaces:
    """Count the spaces of a reading that stand where the reference has one.

    Both texts are compared without case, runs of white space as one space. The reading is
    aligned to the reference by a least-edit alignment in which equal characters pair (a space
    read between the right two words pairs with the reference's, whatever the words' own
    misreadings); ``right`` counts the spaces paired with spaces.
    """
    a, b = (" ".join(text.upper().split()) for text in (ref, read))
    # cost[i][j]: edits to align a[:i] with b[:j]; back-traced to pair characters.
    cost = [
        [i + j if i == 0 or j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)
    ]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost[i][j] = min(
                cost[i - 1][j] + 1, cost[i][j - 1] + 1, cost[i - 1][j - 1] + (a[i - 1] != b[j - 1])
            )
    right, i, j = 0, len(a), len(b)
    while i and j:
        if a[i - 1] == b[j - 1] and cost[i][j] == cost[i - 1][j - 1]:
            right += a[i - 1] == " "
            i, j = i - 1, j - 1
        elif cost[i][j] == cost[i - 1][j - 1] + 1:
            i, j = i - 1, j - 1
        elif cost[i][j] == cost[i - 1][j] + 1:
            i -= 1
        else:
            j -= 1
    return Spaces(a.count(" "), b.count(" "), right)
