"""tools/parity: the ranking both sides are compared by (ties included), the filled sentence, the input comparison,
and the golden fixtures' sharing of identical files."""

import json

import golden
import parity
import pytest


def test_rank_orders_by_score_then_by_candidate_index():
    top, gold_rank, best = parity.rank([0.1, 0.9, 0.5, 0.9], golds=[2])
    assert top == [1, 3, 2, 0]
    assert (gold_rank, best) == (3, 2)


def test_a_tie_with_the_gold_counts_against_it_only_from_an_earlier_candidate():
    # Candidates 0 and 2 tie: 0 comes first, so gold 2 ranks second and gold 0 first.
    assert parity.rank([0.7, 0.2, 0.7], golds=[2])[1:] == (2, 2)
    assert parity.rank([0.7, 0.2, 0.7], golds=[0])[1:] == (1, 0)


def test_the_best_of_several_golds_is_ranked_and_unscorable_candidates_come_last():
    top, gold_rank, best = parity.rank([None, 0.3, 0.8, None, 0.3], golds=[0, 4])
    assert top == [2, 1, 4, 0, 3]
    assert (gold_rank, best) == (3, 4)
    assert parity.rank([0.5] * 12, golds=[11])[0] == list(range(10))


@pytest.mark.parametrize(
    ("template", "subject", "run", "text"),
    [
        ("[X] was born in [Y] .", "Ryō", "<m><m>", "Ryō was born in <m><m> ."),
        ("The capital of [Y] is [X].", "Tokyo", "<m>", "The capital of <m> is Tokyo."),
    ],
)
def test_slots_give_the_sentence_and_where_subject_and_masks_start(template, subject, run, text):
    got, at_subject, at_run = parity.slots(template, subject, run)
    assert got == text
    assert got[at_subject : at_subject + len(subject)] == subject
    assert got[at_run : at_run + len(run)] == run


def test_inputs_are_the_same_only_when_every_field_of_every_pass_is():
    one = {"input_ids": [0, 5, 2], "attention_mask": [1, 1, 1], "entity_ids": [3], "entity_position_ids": [[1]]}
    p = {"passes": [one]}
    rel = {"tokens": [[7], [8, 9]], "entity_ids": [4, None]}
    assert parity.same_inputs(p, rel, ([dict(one)], [[7], [8, 9]], [4, None])) == (True, True)
    assert parity.same_inputs(p, rel, ([dict(one, entity_position_ids=[[2]])], [[7], [8, 9]], None)) == (False, True)
    assert parity.same_inputs(p, rel, ([one, one], [[7], [8]], None)) == (False, False)
    assert parity.same_inputs(p, rel, ([one], [[7], [8, 9]], [4, 5])) == (True, False)


def test_golden_fixtures_point_a_later_family_at_an_earlier_ones_identical_files(tmp_path, monkeypatch):
    monkeypatch.setattr(golden, "OUT", str(tmp_path))
    manifest = {"files": {"tokenizer": "tokenizer.json", "config": "config.json", "entity_vocab": "entity_vocab.json"}}
    for fam, vocab in (("luke", "{}"), ("luke_aware", '{"other": 1}')):
        (tmp_path / fam).mkdir()
        (tmp_path / fam / "tokenizer.json").write_text("same", encoding="utf-8")
        (tmp_path / fam / "entity_vocab.json").write_text(vocab, encoding="utf-8")
        (tmp_path / fam / "mlama-checkpoint.json").write_text(json.dumps(manifest), encoding="utf-8")
    golden.share_files("luke")
    golden.share_files("luke_aware")
    assert sorted(p.name for p in (tmp_path / "luke").iterdir()) == ["entity_vocab.json", "mlama-checkpoint.json", "tokenizer.json"]
    assert sorted(p.name for p in (tmp_path / "luke_aware").iterdir()) == ["entity_vocab.json", "mlama-checkpoint.json"]
    files = json.loads((tmp_path / "luke_aware" / "mlama-checkpoint.json").read_text(encoding="utf-8"))["files"]
    assert files == {"tokenizer": "../luke/tokenizer.json", "config": "config.json", "entity_vocab": "entity_vocab.json"}
