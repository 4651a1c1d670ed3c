"""tools/known_answer.py: how facts are split between trained, English-only and held-out, and how a template is cut
and filled the way the harness builds its prompts."""

from collections import Counter

import known_answer as ka


def triples(n_subjects, relations=("P19", "P36")):
    """Every language holds the same facts, so that the split is seen per (relation, subject)."""
    facts = {r: [{"sub_uri": f"Q{i}", "obj_uri": f"Q{1000 + i}"} for i in range(n_subjects)] for r in relations}
    return {lang: {r: list(v) for r, v in facts.items()} for lang in ka.LANGS}


def test_every_subject_gets_one_split_in_the_declared_shares():
    split = ka.split_subjects(triples(20), seed=1)
    assert len(split) == 2 * 20
    for rel in ("P19", "P36"):
        counts = Counter(name for (r, _), name in split.items() if r == rel)
        assert counts == {name: round(frac * 20) for name, frac in ka.SPLIT}


def test_the_split_is_seeded_and_per_relation():
    t = triples(30)
    assert ka.split_subjects(t, seed=7) == ka.split_subjects(t, seed=7)
    assert ka.split_subjects(t, seed=7) != ka.split_subjects(t, seed=8)


def test_subjects_seen_in_one_language_only_are_split_too():
    t = triples(4)
    t["ja"]["P19"].append({"sub_uri": "Q-ja-only", "obj_uri": "Q1"})
    split = ka.split_subjects(t, seed=3)
    assert ("P19", "Q-ja-only") in split
    assert len(split) == 2 * 4 + 1


class Chars:
    """An encoder whose pieces are characters, marking a sentence-initial piece, so the cut is visible in ids."""

    def encode(self, text, initial):
        return [("^" if initial else "") + c for c in text]


def test_a_template_is_cut_into_fixed_pieces_around_the_slots():
    first, pieces, slots = ka.cut_template("[X] was born in [Y] .", Chars())
    assert first == "X"
    assert pieces == [[], list(" was born in"), list(" .")]
    # The subject starts the sentence; the object follows a space that belongs to its own slot.
    assert slots == {"X": ("", True), "Y": (" ", False)}


def test_an_object_before_the_subject_is_cut_the_other_way_round():
    first, pieces, slots = ka.cut_template("Capital of [Y] is [X]", Chars())
    assert first == "Y"
    assert pieces == [Chars().encode("Capital of", True), list(" is"), []]
    assert slots == {"Y": (" ", False), "X": (" ", False)}


def test_assemble_puts_the_subject_and_the_masks_where_it_says():
    cut = ka.cut_template("[X] was born in [Y] .", Chars())
    ids, subject_at, masks_at = ka.assemble(cut, ["s1", "s2"], 3, "<s>", "</s>", "<mask>")
    assert ids[0] == "<s>" and ids[-1] == "</s>"
    assert [ids[i] for i in subject_at] == ["s1", "s2"]
    assert [ids[i] for i in masks_at] == ["<mask>"] * 3
    assert "".join(ids[subject_at[-1] + 1 : masks_at[0]]) == " was born in"
    assert ids.count("<mask>") == 3
