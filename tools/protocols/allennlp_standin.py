"""Stand-ins for the few allennlp names the authors' mLAMA script imports, registered in sys.modules.

allennlp 2.10 pins torch < 1.13 and cannot be installed beside this project's torch, so its data pipeline is
replaced by the smallest equivalent that yields the same tensors: instances are read in order, cut into batches
of `batch_size`, and padded the way allennlp pads them (token ids with the tokenizer's pad id and a zero mask,
tensors with their field's padding value). Only what the script touches is here; anything else raises.
wikipedia2vec is stood in for too: the script never calls the vocabulary-building command that imports it, and
installing it pulls scipy and numpy 2 over the project's pinned numpy.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from transformers import AutoTokenizer


class Token:
    def __init__(self, text: str):
        self.text = text


class TextField:
    def __init__(self, tokens: list[Token], token_indexers: dict[str, Any]):
        self.tokens = tokens
        self.indexers = token_indexers


class MetadataField:
    def __init__(self, metadata: Any):
        self.metadata = metadata


class TensorField:
    def __init__(self, tensor: np.ndarray, padding_value: int = 0, dtype: Any = None):
        self.tensor = torch.as_tensor(np.asarray(tensor, dtype=dtype))
        self.padding_value = padding_value


class ListField:
    def __init__(self, fields: list[TensorField]):
        self.fields = fields


class Instance(dict):
    pass


class Vocabulary:
    @classmethod
    def from_pretrained_transformer(cls, model_name: str) -> Vocabulary:
        return cls()


class DatasetReader:
    def __init__(self, max_instances: int | None = None, **_: Any):
        self.max_instances = max_instances

    @classmethod
    def register(cls, _name: str):
        return lambda reader: reader

    def read(self, path: str) -> Iterator[Instance]:
        for n, instance in enumerate(self._read(path)):
            if self.max_instances is not None and n >= self.max_instances:
                return
            yield instance

    def _read(self, path: str) -> Iterator[Instance]:
        raise NotImplementedError


class PretrainedTransformerTokenizer:
    def __init__(self, model_name: str, add_special_tokens: bool = True, tokenizer_kwargs: dict | None = None):
        # add_special_tokens is allennlp's own setting for its tokenize(), which the script does not call.
        self.tokenizer = AutoTokenizer.from_pretrained(model_name, **(tokenizer_kwargs or {}))


class PretrainedTransformerIndexer:
    def __init__(self, model_name: str, **_: Any):
        self.tokenizer = AutoTokenizer.from_pretrained(model_name, use_fast=False)

    def ids(self, tokens: list[Token]) -> list[int]:
        return [self.tokenizer.convert_tokens_to_ids(t.text) for t in tokens]


def _pad(tensors: list[torch.Tensor], value: int) -> torch.Tensor:
    shape = [len(tensors)] + [max(t.shape[d] for t in tensors) for d in range(tensors[0].dim())]
    out = torch.full(shape, value, dtype=tensors[0].dtype)
    for i, t in enumerate(tensors):
        out[(i, *(slice(0, s) for s in t.shape))] = t
    return out


def _collate(instances: list[Instance]) -> dict[str, Any]:
    batch: dict[str, Any] = {}
    for name, first in instances[0].items():
        fields = [inst[name] for inst in instances]
        if isinstance(first, TextField):
            indexer = first.indexers["tokens"]
            ids = [torch.tensor(indexer.ids(f.tokens)) for f in fields]
            ones = [torch.ones(len(f.tokens), dtype=torch.bool) for f in fields]
            zeros = [torch.zeros(len(f.tokens), dtype=torch.long) for f in fields]
            batch[name] = {"tokens": {"token_ids": _pad(ids, indexer.tokenizer.pad_token_id), "mask": _pad(ones, False), "type_ids": _pad(zeros, 0)}}
        elif isinstance(first, MetadataField):
            batch[name] = [f.metadata for f in fields]
        elif isinstance(first, TensorField):
            batch[name] = _pad([f.tensor for f in fields], first.padding_value)
        elif isinstance(first, ListField):
            value = first.fields[0].padding_value
            rows = [_pad([t.tensor for t in f.fields], value) for f in fields]
            batch[name] = _pad(rows, value)
        else:
            raise TypeError(f"allennlp stand-in: no collation for {type(first).__name__}")
    return batch


class MultiProcessDataLoader:
    def __init__(self, reader: DatasetReader, data_path: str, batch_size: int, shuffle: bool = False, **_: Any):
        if shuffle:
            raise ValueError("allennlp stand-in: shuffle is not supported")
        self.reader, self.data_path, self.batch_size = reader, data_path, batch_size

    def index_with(self, _vocab: Vocabulary) -> None:
        pass

    def __iter__(self) -> Iterator[dict[str, Any]]:
        pending: list[Instance] = []
        for instance in self.reader.read(self.data_path):
            pending.append(instance)
            if len(pending) == self.batch_size:
                yield _collate(pending)
                pending = []
        if pending:
            yield _collate(pending)


def move_to_device(batch: Any, device: torch.device) -> Any:
    if isinstance(batch, torch.Tensor):
        return batch.to(device)
    if isinstance(batch, dict):
        return {k: move_to_device(v, device) for k, v in batch.items()}
    return batch


class DumpDB:
    def __init__(self, *_: Any):
        raise RuntimeError("wikipedia2vec stand-in: DumpDB is not available here")


def _module(name: str, **names: Any) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__dict__.update(names)
    sys.modules[name] = module
    return module


def install() -> None:
    """Registers allennlp's and wikipedia2vec's stood-in modules, so the script's imports find them."""
    data = dict(DatasetReader=DatasetReader, Instance=Instance, Token=Token, Vocabulary=Vocabulary)
    _module("allennlp")
    _module("allennlp.data", **data)
    _module("allennlp.data.fields", ListField=ListField, MetadataField=MetadataField, TensorField=TensorField, TextField=TextField)
    _module("allennlp.data.token_indexers", PretrainedTransformerIndexer=PretrainedTransformerIndexer)
    _module("allennlp.data.tokenizers", PretrainedTransformerTokenizer=PretrainedTransformerTokenizer)
    _module("allennlp.data.data_loaders", MultiProcessDataLoader=MultiProcessDataLoader)
    _module("allennlp.nn")
    _module("allennlp.nn.util", move_to_device=move_to_device)
    sys.modules["allennlp.nn"].util = sys.modules["allennlp.nn.util"]
    _module("wikipedia2vec")
    _module("wikipedia2vec.dump_db", DumpDB=DumpDB)
