"""tools/protocols/mlama_original.py and bert_model.py, their pure parts: what is handed to mLAMA's scripts and what
is read back from them (no model, no shared data, no network)."""

import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "protocols"))
import bert_model  # noqa: E402
import mlama_original as mo  # noqa: E402


def test_relations_are_split_by_the_candidate_file_their_script_would_pick():
    rels = [{"relation": "P19"}, {"relation": "place_of_birth"}, {"relation": "P36"}, {"relation": "date_of_birth"}]
    assert mo.split_by_candidate_file(rels) == [[rels[0], rels[2]], [rels[1], rels[3]]]
    assert mo.split_by_candidate_file([{"relation": "place_of_birth"}]) == [[{"relation": "place_of_birth"}]]


def test_ragged_lists_become_an_object_array_as_numpy_1_15_made_them():
    rnp = mo.ragged_numpy(np)
    masked = rnp.array([[5], [5, 6], [7], [7, 8]])
    assert masked.dtype == object and masked.shape == (4,)
    rows = rnp.reshape(masked, (2, 2))
    assert rows[1][1] == [7, 8]
    assert rnp.array([[5], [7]]).dtype != object
    with pytest.raises(ValueError):
        rnp.array([[5], [5, 6]], dtype=int)
    assert rnp.mean is np.mean


def result(*triples):
    return {
        "list_of_results": [
            {
                "sample": {"uuid": u, "sub_label": s, "obj_label": g},
                "masked_topk": {"rank": r, "predicted": np.array(pred), "probs": np.array(probs, dtype=np.float32)},
            }
            for u, s, g, r, pred, probs in triples
        ]
    }


def test_their_top1_is_the_last_of_the_ascending_order_and_p1_counts_rank_zero():
    res = result((1, "A", "x", 0, ["z", "y", "x"], [-3, -2, -1]), (0, "B", "y", 1, ["y", "x"], [-2.5, -0.5]))
    recs = mo.triple_records(res, "ja", "P30", [10, 11])
    assert [(r["lineid"], r["top1"], r["top1Score"], r["secondScore"], r["rank"]) for r in recs] == [(11, "x", -1.0, -2.0, 0), (10, "x", -0.5, -2.5, 1)]
    assert mo.relation_p1(recs) == 0.5
    assert mo.relation_p1([]) is None
    one = mo.triple_records(result((0, "C", "w", 0, ["w"], [-1])), "en", "P1", [0])
    assert one[0]["secondScore"] is None


def test_eval_csv_is_read_per_language(tmp_path):
    f = tmp_path / "mbert_ranked.csv"
    f.write_text("en,312.0,0.25,0.25\nja,300.0,0.1,0.2\n")
    assert mo.read_eval_csv(f) == {"en": {"triples": 312.0, "p1": 0.25, "p1English": 0.25}, "ja": {"triples": 300.0, "p1": 0.1, "p1English": 0.2}}


def test_ppb_weights_take_transformers_names_and_zero_only_the_pooler():
    target = {"bert.embeddings.word_embeddings.weight": 0, "bert.pooler.dense.weight": 0, "cls.predictions.bias": 0}
    hf = {"bert.embeddings.word_embeddings.weight": "E", "cls.predictions.bias": "b", "cls.predictions.decoder.bias": "b"}
    state, left = bert_model.ppb_state(target, hf, lambda ref: "zeros")
    assert state == {"bert.embeddings.word_embeddings.weight": "E", "bert.pooler.dense.weight": "zeros", "cls.predictions.bias": "b"}
    assert left == []
    _, left = bert_model.ppb_state(target, {**hf, "bert.extra": 1}, lambda ref: "zeros")
    assert left == ["bert.extra"]
    with pytest.raises(KeyError):
        bert_model.ppb_state({"bert.encoder.layer.0.output.dense.weight": 0}, hf, lambda ref: "zeros")


def test_ppb_config_keeps_the_fields_their_loader_reads():
    cfg = {k: i for i, k in enumerate(bert_model.PPB_CONFIG)} | {"model_type": "bert", "pad_token_id": 0}
    assert set(bert_model.ppb_config(cfg)) == set(bert_model.PPB_CONFIG)
