"""Rankings compared the way floats are: two candidates whose scores differ by less than the score tolerance are a
tie, so an order that differs from the reference only between such candidates is a near tie, not a difference."""

NONE = float("-inf")


def value(scores, i):
    return scores[i] if scores[i] is not None else NONE


def rank(scores, golds, k=10):
    """The reference's top k (ties by candidate order, as the harness breaks them), the best gold's rank and index."""

    def key(i):
        return (-value(scores, i), i)

    order = sorted(range(len(scores)), key=key)
    best = min(golds, key=key)
    return order[:k], 1 + sum(1 for i in range(len(scores)) if i != best and key(i) < key(best)), best


def close(a, b, tol):
    return a == b or abs(a - b) < tol


def tied(ref, top, best, tol):
    """Whether the ranking rests on a near tie: two neighbours of the top (or the last of it and the next candidate),
    or the best gold and another candidate, within tol. Such a prompt counts as a near tie whichever way the float
    noise of a machine ordered it, so the counts are the same everywhere."""
    values = sorted((value(ref, i) for i in range(len(ref))), reverse=True)[: len(top) + 1]
    if any(close(a, b, tol) and a != NONE for a, b in zip(values, values[1:])):
        return True
    g = value(ref, best)
    return g != NONE and any(i != best and close(value(ref, i), g, tol) for i in range(len(ref)))


def compare(ref, golds, stored_top, stored_rank, tol, harness=None):
    """'identical', 'near-tie' or 'differs': the stored top (candidate indices, best first) and gold rank against
    the reference scores. A near tie: at every position of the top, the stored candidate's score is within tol of
    the reference's candidate at that position (in the reference's scores, or in the harness's where both were
    stored: `harness` maps a stored candidate to its score), and the stored gold rank lies between the ranks the
    gold has when every candidate within tol of it counts as above or as below it."""
    top, gold_rank, best = rank(ref, golds, len(stored_top))
    if top == list(stored_top) and gold_rank == stored_rank and not tied(ref, top, best, tol):
        return "identical"
    harness = harness or {}
    for s, r in zip(stored_top, top):
        same = close(value(ref, s), value(ref, r), tol) or (s in harness and r in harness and close(harness[s], harness[r], tol))
        if not same or (ref[s] is None) != (ref[r] is None):
            return "differs"
    if len(stored_top) != len(top):
        return "differs"
    g = value(ref, best)
    lo = 1 + sum(1 for i in range(len(ref)) if value(ref, i) > g and not close(value(ref, i), g, tol))
    hi = 1 + sum(1 for i in range(len(ref)) if i != best and (value(ref, i) > g or close(value(ref, i), g, tol)))
    return "near-tie" if lo <= stored_rank <= hi else "differs"
