"""The allennlp stand-in batches as allennlp does: in order, padded per field, and registers what the script imports."""

import sys

import allennlp_standin as a
import numpy as np
import pytest
import torch


class Indexer:
    class tokenizer:  # noqa: N801 - stands in for a transformers tokenizer
        pad_token_id = 1

    def ids(self, tokens):
        return [len(t.text) for t in tokens]


class Reader(a.DatasetReader):
    def __init__(self, n, **kw):
        super().__init__(**kw)
        self.n = n

    def _read(self, path):
        for i in range(self.n):
            tokens = [a.Token("x" * (j + 2)) for j in range(i + 1)]
            yield a.Instance(
                text=a.TextField(tokens, {"tokens": Indexer()}),
                meta=a.MetadataField({"i": i, "path": path}),
                ids=a.TensorField(np.arange(i + 1), dtype=np.int64),
                spans=a.ListField([a.TensorField(np.array([5] * (k + 1)), padding_value=-1, dtype=np.int64) for k in range(i + 1)]),
            )


def test_batches_in_order_and_pads_each_field_as_allennlp_does():
    batches = list(a.MultiProcessDataLoader(Reader(3), "en", batch_size=2))
    assert [len(b["meta"]) for b in batches] == [2, 1]
    first = batches[0]
    assert [m["i"] for m in first["meta"]] == [0, 1]
    assert first["meta"][0]["path"] == "en"
    assert first["text"]["tokens"]["token_ids"].tolist() == [[2, 1], [2, 3]]
    assert first["text"]["tokens"]["mask"].tolist() == [[True, False], [True, True]]
    assert first["text"]["tokens"]["mask"].dtype == torch.bool
    assert first["text"]["tokens"]["type_ids"].tolist() == [[0, 0], [0, 0]]
    assert first["ids"].tolist() == [[0, 0], [0, 1]]
    # A list of spans: padded to the most entities, then the longest span, with the field's padding value.
    assert first["spans"].tolist() == [[[5, -1], [-1, -1]], [[5, -1], [5, 5]]]


def test_max_instances_stops_the_reader():
    assert sum(len(b["meta"]) for b in a.MultiProcessDataLoader(Reader(5, max_instances=3), "en", batch_size=2)) == 3


def test_shuffle_is_refused_rather_than_ignored():
    with pytest.raises(ValueError, match="shuffle"):
        a.MultiProcessDataLoader(Reader(1), "en", batch_size=1, shuffle=True)


def test_install_registers_the_modules_the_script_imports():
    a.install()
    from allennlp.data import DatasetReader, Instance, Token, Vocabulary  # noqa: F401
    from allennlp.data.data_loaders import MultiProcessDataLoader
    from allennlp.nn import util as nn_util

    assert MultiProcessDataLoader is a.MultiProcessDataLoader
    assert nn_util.move_to_device({"x": [torch.ones(1)]}, torch.device("cpu"))["x"][0].tolist() == [1.0]
    with pytest.raises(RuntimeError, match="stand-in"):
        sys.modules["wikipedia2vec.dump_db"].DumpDB("x")
