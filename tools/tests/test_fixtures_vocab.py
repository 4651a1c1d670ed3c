"""tools/parity/fixtures.py: the parity fixtures' entity vocabulary and the WordPiece vocab.txt layout."""

import fixtures


def data(*triples_by_lang):
    return {lang: {"triples": triples} for lang, triples in triples_by_lang}


def test_one_id_per_entity_shared_by_its_titles_and_mask2_last():
    d = data(("en", [("Q1", "Tokyo", "Q2", "Japan")]), ("ja", [("Q1", "東京", "Q2", "日本")]))
    v = fixtures.build_entity_vocab(d, seed=1, keep_en=1.0, keep_other=1.0)
    assert [v[s] for s in fixtures.SPECIALS] == list(range(len(fixtures.SPECIALS)))
    assert v["en:Tokyo"] == v["ja:東京"]
    assert v["en:Japan"] == v["ja:日本"] != v["en:Tokyo"]
    assert v["[MASK2]"] == max(v.values()) == len(fixtures.SPECIALS) + 2


def test_a_homograph_stays_with_the_first_entity_and_dropped_titles_take_no_id():
    d = data(("en", [("Q1", "Paris", "Q3", "France"), ("Q2", "Paris", "Q3", "France")]))
    v = fixtures.build_entity_vocab(d, seed=1, keep_en=1.0, keep_other=1.0)
    assert v["en:Paris"] == len(fixtures.SPECIALS)  # Q1's; Q2 has no title left and takes no id
    assert sorted(v.values()) == list(range(len(v)))
    none = fixtures.build_entity_vocab(d, seed=1, keep_en=0.0, keep_other=0.0)
    assert none == {**{s: i for i, s in enumerate(fixtures.SPECIALS)}, "[MASK2]": len(fixtures.SPECIALS)}


def test_titles_are_kept_by_a_seeded_draw():
    d = data(("en", [(f"Q{i}", f"s{i}", f"Q{1000 + i}", f"o{i}") for i in range(200)]))
    a = fixtures.build_entity_vocab(d, seed=4)
    assert a == fixtures.build_entity_vocab(d, seed=4)
    assert a != fixtures.build_entity_vocab(d, seed=5)
    assert 0.75 < (len(a) - len(fixtures.SPECIALS) - 1) / 400 < 0.95  # keep_en 0.85
    assert 0.0 <= fixtures.unit_hash(4, "Q1", "en") < 1.0


def test_vocab_txt_is_mberts_layout_from_the_committed_wordpiece_tokenizer(tmp_path):
    path = fixtures.wordpiece_vocab_txt(str(tmp_path))
    lines = open(path, encoding="utf-8").read().split("\n")
    assert lines[-1] == ""
    pieces = lines[:-1]
    assert {p: pieces.index(p) for p in ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")} == {
        "[PAD]": 0,
        "[UNK]": 100,
        "[CLS]": 101,
        "[SEP]": 102,
        "[MASK]": 103,
    }
    assert len(set(pieces)) == len(pieces)
