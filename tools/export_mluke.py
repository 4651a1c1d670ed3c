#!/usr/bin/env python3
"""Export a masked LM saved by transformers' save_pretrained (mLUKE / LUKE, XLM-R / RoBERTa, multilingual BERT)
into an mlama-harness checkpoint directory (docs: the checkpoint contract, src/model/contract.json).

    mlama export /models/mluke-base checkpoints/mluke-base
    .venv/bin/python tools/export_mluke.py /models/xlm-roberta-base checkpoints/xlmr-base

The family comes from config.json's model_type (FAMILIES below, checked against src/model/families by the tests);
it decides the graphs' inputs and heads, the tokenizer written and the prediction-head weights required. Needs the
checkout's Python environment (make python-env: torch, transformers, onnx, onnxruntime, sentencepiece). Writes:
  model.onnx          the gathered graph: log-probabilities at the mask positions / the object entity slot only
                      (LUKE: dense layers on the real words and entities only, the last layer at the read rows)
  model.naive.onnx    full logits at every position (and over the whole entity vocabulary) for checks and benchmarks
  model.words.onnx    families with an entity head: the encoder without entity inputs and the word head, for
                      word-only prompts (packed as the gathered graph)
  weights.bin         one external-data file the graphs point into (each tensor stored once, 4 KiB aligned)
  tokenizer.json      the fast tokenizer of the model's own SentencePiece model or WordPiece vocab.txt
  entity_vocab.json   "<lang>:<title>" -> id, special entities unprefixed (families with an entity head)
  config.json         as transformers writes it
  mlama-checkpoint.json  the manifest the harness validates against (it records the family)

The export refuses a checkpoint whose prediction heads transformers had to initialise (a LukeModel checkpoint
loaded as LukeForMaskedLM): ranking with random heads would report numbers that mean nothing. It writes into a
hidden sibling folder, runs the exported graphs with onnxruntime next to the torch model (failing above
--tolerance) and only then moves the folder into place: a failed export leaves no loadable checkpoint.
"""

import argparse
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile

# The version of the graphs this exporter writes, recorded in each manifest's origin: bumped whenever a change to the
# exporter changes a graph's bytes, so that test/knownAnswerExport.test.ts sees the committed known-answer export
# fall behind (rebuild it with `make known-answer`).
GRAPHS_VERSION = 2
ALIGN = 4096  # page-aligned offsets let onnxruntime map the file instead of reading it
INLINE_BELOW = 1024  # bytes: small constants stay inside the graph
HERE = os.path.dirname(os.path.abspath(__file__))
# studio-ousia/mluke-base's layer sizes and special ids: the random models built to its shape
# (make_peer_model.py, parity/base_export.py) take them from here.
MLUKE_BASE = dict(
    hidden_size=768,
    num_hidden_layers=12,
    num_attention_heads=12,
    intermediate_size=3072,
    entity_emb_size=256,
    max_position_embeddings=514,
    type_vocab_size=1,
    bos_token_id=0,
    pad_token_id=1,
    eos_token_id=2,
)
CONTRACT_FILE = os.path.join(HERE, "..", "src", "model", "contract.json")


def die(msg):
    print(f"error: {msg}", file=sys.stderr)
    sys.exit(2)


def load_contract():
    with open(CONTRACT_FILE, encoding="utf-8") as f:
        return json.load(f)


# ---------------------------------------------------------------------------------------------------------------
# The families, as src/model/families declares them (test/exporter-cli.test.ts holds the two equal), with the
# exporter's hooks: which module holds the encoder, the tokenizer files a save_pretrained directory must have,
# and the head weights that must come from the checkpoint.


def word_head(mlm):
    # BertForMaskedLM keeps its MLM head in `cls`, LUKE and the RoBERTa family in `lm_head`.
    return mlm.cls if hasattr(mlm, "cls") else mlm.lm_head


HEADS = {
    "word": {"module": word_head, "hidden": "last_hidden_state", "naive": "logits"},
    "entity": {"module": lambda mlm: mlm.entity_predictions, "hidden": "entity_last_hidden_state", "naive": "entity_logits"},
}

FAMILIES = {
    "luke": {
        "model_types": ("luke",),
        "input_groups": ("words", "entities"),
        "heads": ("word", "entity"),
        "encoder": lambda mlm: mlm.luke,
        "head_keys": ("lm_head.", "entity_predictions."),
        "files": ("sentencepiece.bpe.model",),
        "tokenizer": "sentencepiece",
    },
    "xlmr": {
        "model_types": ("xlm-roberta", "roberta"),
        "input_groups": ("words",),
        "heads": ("word",),
        "encoder": lambda mlm: mlm.base_model,
        "head_keys": ("lm_head.",),
        "files": ("sentencepiece.bpe.model",),
        "tokenizer": "sentencepiece",
    },
    "bert": {
        "model_types": ("bert",),
        "input_groups": ("words", "token_types"),
        "heads": ("word",),
        "encoder": lambda mlm: mlm.base_model,
        "head_keys": ("cls.",),
        "files": ("vocab.txt",),
        "tokenizer": "wordpiece",
    },
}


def family_of(model_type):
    return next((name for name, fam in FAMILIES.items() if model_type in fam["model_types"]), None)


def family_table():
    """What the TypeScript registry declares of each family, for the test that holds the two equal."""
    return {n: {"modelTypes": list(f["model_types"]), "heads": list(f["heads"]), "inputGroups": list(f["input_groups"])} for n, f in FAMILIES.items()}


def graph_spec(contract, family):
    """The manifest's graphs of a family, from the contract: its input groups, then the gather inputs of its heads.
    A family with an entity head adds `words`, the encoder without entity inputs and the word head, for word-only
    prompts: fed a masked dummy entity instead, the gathered graph runs entity-aware attention's extra query
    projection over every word (about 8% more encoder FLOPs) for nothing."""
    fam = FAMILIES[family]
    groups = contract["input_groups"]
    words = [n for g in fam["input_groups"] if g != "entities" for n in groups[g]]
    inputs = [n for g in fam["input_groups"] for n in groups[g]]
    heads = [contract["heads"][h] for h in fam["heads"]]
    files = contract["files"]
    spec = {
        "gathered": {
            "file": files["gathered"],
            "inputs": inputs + [n for h in heads for n in h["gather_inputs"]],
            "outputs": [h["gathered_output"] for h in heads],
        },
        "naive": {"file": files["naive"], "inputs": list(inputs), "outputs": [h["naive_output"] for h in heads]},
    }
    if "entity" in fam["heads"]:
        word = contract["heads"]["word"]
        spec["words"] = {"file": files["words"], "inputs": words + word["gather_inputs"], "outputs": [word["gathered_output"]]}
    return spec


# ---------------------------------------------------------------------------------------------------------------
# The source: a directory written by save_pretrained, checked before transformers sees it, so that every mistake
# is one line naming the file or field (transformers would guess a model type from the folder's name, or raise).

WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin", "model.safetensors.index.json", "pytorch_model.bin.index.json")
MANIFEST = "mlama-checkpoint.json"


def resolve_source(src):
    """A local directory, or a hub name already in the local transformers cache."""
    if os.path.isdir(src):
        return src
    if os.path.exists(src):
        die(f"{src}: not a directory (the exporter reads a directory written by save_pretrained)")
    if re.fullmatch(r"[\w.-]+/[\w.-]+", src) and not src.startswith("."):
        try:
            from huggingface_hub import snapshot_download

            return snapshot_download(src, local_files_only=True)
        except Exception:
            die(f"{src}: no such directory, and no hub model of that name in the local cache (download it first, e.g. huggingface-cli download {src})")
    die(f"{src}: no such directory")


def read_source(src, entity_vocab=None):
    """(config dict, family) of a save_pretrained directory, or one `error:` line naming what is wrong."""
    if os.path.exists(os.path.join(src, MANIFEST)):
        die(f"{src}: an mlama checkpoint ({MANIFEST}), already exported; the exporter reads a transformers directory written by save_pretrained")
    path = os.path.join(src, "config.json")
    if not os.path.isfile(path):
        die(f"{path}: missing (not a directory written by save_pretrained)")
    try:
        with open(path, encoding="utf-8") as f:
            config = json.load(f)
    except (ValueError, UnicodeDecodeError) as e:
        die(f"{path}: not valid JSON ({e})")
    if not isinstance(config, dict):
        die(f"{path}: not a JSON object")
    model_type = config.get("model_type")
    if "model_type" in config and (not isinstance(model_type, str) or not model_type):
        die(f"{path}: model_type must be a non-empty string such as 'luke', got {json.dumps(model_type)}")
    if not isinstance(model_type, str) or not model_type:
        die(f"{path}: no model_type field (the family is never guessed from the folder's name)")
    family = family_of(model_type)
    if family is None:
        known = "; ".join(f"{n}: {', '.join(f['model_types'])}" for n, f in FAMILIES.items())
        die(f"{path}: model_type {model_type!r} is not a family the harness knows ({known})")
    if not any(os.path.isfile(os.path.join(src, w)) for w in WEIGHT_FILES):
        die(f"{src}: no weights ({' or '.join(WEIGHT_FILES[:2])})")
    for name in FAMILIES[family]["files"]:
        if not os.path.isfile(os.path.join(src, name)):
            die(f"{os.path.join(src, name)}: missing (the {family} tokenizer's vocabulary, written by the tokenizer's save_pretrained)")
    if "entity" in FAMILIES[family]["heads"] and not entity_vocab and not os.path.isfile(os.path.join(src, "entity_vocab.json")):
        die(f"{os.path.join(src, 'entity_vocab.json')}: missing (the entity vocabulary; or pass --entity-vocab)")
    if entity_vocab and not os.path.isfile(entity_vocab):
        die(f"{entity_vocab}: missing (--entity-vocab)")
    return config, family


# ---------------------------------------------------------------------------------------------------------------
# The graphs, as torch modules around a loaded masked LM. Heads run on 2-D rows so torch exports the tied output
# projection as Gemm(transB=1) over the embedding table itself, not over a folded transposed copy.


def _pick(torch, logits_2d, like, candidates):
    """Log-softmax over the full vocabulary of [B*M] head rows, then only the candidate ids: [B, M, K]."""
    lp = torch.log_softmax(logits_2d, dim=-1).reshape(like.size(0), like.size(1), -1)
    return torch.gather(lp, 2, candidates)


def _modules(torch, contract):
    """The gathered and naive graphs of any family, driven by the input names the spec gives (the family's hooks
    name its encoder and heads). transformers' LUKE gets packed gathered and words graphs instead (below)."""
    nn = torch.nn
    model_inputs = {n for g in contract["input_groups"].values() for n in g}
    gather_inputs = {h: contract["heads"][h]["gather_inputs"] for h in HEADS}

    def gather_rows(hidden, positions):
        # hidden [B, L, H], positions [B, M] -> [B*M, H]
        idx = positions.unsqueeze(-1).expand(-1, -1, hidden.size(-1))
        return torch.gather(hidden, 1, idx).reshape(-1, hidden.size(-1))

    class Gathered(nn.Module):
        def __init__(self, mlm, family, names, heads):
            super().__init__()
            self.mlm, self.family, self.names, self.heads = mlm, family, names, heads

        def forward(self, *args):
            x = dict(zip(self.names, args))
            out = FAMILIES[self.family]["encoder"](self.mlm)(**{k: v for k, v in x.items() if k in model_inputs}, return_dict=True)
            picked = []
            for h in self.heads:
                pos, cand = (x[n] for n in gather_inputs[h])
                rows = gather_rows(getattr(out, HEADS[h]["hidden"]), pos)
                picked.append(_pick(torch, HEADS[h]["module"](self.mlm)(rows), pos, cand))
            return tuple(picked) if len(picked) > 1 else picked[0]

    class Naive(nn.Module):
        def __init__(self, mlm, family, names, heads):
            super().__init__()
            self.mlm, self.names, self.heads = mlm, names, heads

        def forward(self, *args):
            out = self.mlm(**dict(zip(self.names, args)), return_dict=True)
            got = [getattr(out, HEADS[h]["naive"]) for h in self.heads]
            return tuple(got) if len(got) > 1 else got[0]

    return Gathered, Naive


def _packed_luke_modules(torch):
    """LUKE's gathered and words graphs, written out layer by layer from transformers' own submodules (embeddings,
    query/key/value and entity-aware queries, output and feed-forward layers, LayerNorms, both heads), so that what
    a batch never reads costs nothing:
    - padding: every dense layer runs on the batch's real words and entities only, gathered into one [T, H]
      matrix; only the attention product goes back to the padded [B, L + E] layout, padded keys masked as
      transformers masks them. A batch of mixed lengths then costs its real tokens, not rows x longest row.
    - the last layer past its keys and values: only the rows a head reads (word masks, the object entity slot)
      go through its queries, output and feed-forward layers (about 5-8% of the encoder at mLAMA's lengths).
    A head reads real rows only (the harness's mask positions and object slot); a read of a padded slot would get
    a neighbouring row, not transformers' value for the pad.
    Row for row this is LukeModel's arithmetic; the export's parity check (a padded batch) and `make parity`
    (entity-aware attention included) hold it to transformers. Encoder weights enter as x @ W^T, folded to the
    same transposed constants as the naive graph's, so weights.bin stores them once; the heads stay Gemm over
    the tied tables (see leave_tied_tables_unpacked)."""
    import math

    nn = torch.nn

    def lin(m, x):
        return torch.matmul(x, m.weight.t()) + m.bias

    def flat_rows(mask, width, offset):
        # mask [B, N] -> the slots of its real entries in a [B, width] layout starting at column `offset`, and,
        # for every slot, the packed row holding it (padding: the nearest, masked out as a key)
        keep = (mask != 0).reshape(-1).long()
        real = torch.nonzero(keep).squeeze(1)
        n = mask.size(1)
        slots = (real // n) * width + offset + real % n
        return real, slots, (torch.cumsum(keep, 0) - 1).clamp(min=0)

    class Encoder(nn.Module):
        def __init__(self, mlm):
            super().__init__()
            self.luke = mlm.luke
            self.heads = mlm.config.num_attention_heads
            self.head_size = mlm.config.hidden_size // self.heads  # a constant, not a traced size
            self.aware = bool(getattr(mlm.config, "use_entity_aware_attention", False))

        def forward(self, input_ids, attention_mask, entities, word_reads, entity_reads):
            """entities: (ids, mask, token types, positions) or None; word_reads [B, M] token positions, entity_reads
            [B, S] entity slots or None. Returns the last layer's rows at the reads, [B, M + S, H]."""
            B, L = input_ids.shape
            word = self.luke.embeddings(input_ids=input_ids, token_type_ids=torch.zeros_like(input_ids))
            H = word.size(-1)
            masks = [attention_mask]
            if entities is not None:
                ent = self.luke.entity_embeddings(entities[0], entities[3], entities[2])
                masks.append(entities[1])
            E = entities[0].size(1) if entities is not None else 0
            W = L + E
            w_real, w_slots, w_row = flat_rows(attention_mask, W, 0)
            x = word.reshape(-1, H).index_select(0, w_real)
            Tw = x.size(0)
            slots, row_of = w_slots, w_row.view(B, L)
            reads = word_reads + torch.arange(B).unsqueeze(1) * L
            reads = w_row.index_select(0, reads.reshape(-1)).view(B, -1)
            if entities is not None:
                e_real, e_slots, e_row = flat_rows(entities[1], W, L)
                x = torch.cat([x, ent.reshape(-1, H).index_select(0, e_real)], 0)
                slots = torch.cat([slots, e_slots])
                # Padded entity slots point at row 0 (a word; masked out as a key): a batch without a real entity,
                # the masked dummy of word-only passes, has no row past the words.
                e_row = torch.where(entities[1].reshape(-1) != 0, e_row + Tw, torch.zeros_like(e_row))
                row_of = torch.cat([row_of, e_row.view(B, E)], 1)
                e_reads = e_row.index_select(0, (entity_reads + torch.arange(B).unsqueeze(1) * E).reshape(-1)).view(B, -1)
                reads = torch.cat([reads, e_reads], 1)
            row_of = row_of.reshape(-1)
            bias = (1.0 - torch.cat(masks, 1)[:, None, None, :].to(word.dtype)) * torch.finfo(word.dtype).min

            def padded(t):
                return t.index_select(0, row_of).view(B, W, H)

            layers = self.luke.encoder.layer
            for i, layer in enumerate(layers):
                sa = layer.attention.self
                k, v = padded(lin(sa.key, x)), padded(lin(sa.value, x))
                last = i == len(layers) - 1
                rows = x.index_select(0, reads.reshape(-1)) if last else x
                n_word = word_reads.size(1) if last else Tw
                q_words, q_ents = self.queries(sa, rows, n_word, last, B, entities is not None)
                if not last:
                    q_words, q_ents = padded(q_words), (padded(q_ents) if q_ents is not None else None)
                ctx = self.attend(q_words, q_ents, k, v, L, B, bias)
                if not last:
                    ctx = ctx.index_select(0, slots)
                a = layer.attention.output.LayerNorm(lin(layer.attention.output.dense, ctx) + rows)
                inter = layer.intermediate.intermediate_act_fn(lin(layer.intermediate.dense, a))
                x = layer.output.LayerNorm(lin(layer.output.dense, inter) + a)
            return x.view(B, -1, H)

        def queries(self, sa, rows, n_word, last, B, with_entities):
            """Queries against the word keys and (entity-aware attention, when entities are fed) against the entity
            keys. Word rows come first: the first n_word packed rows, or in the last layer the first n_word reads of
            each batch row."""
            if not (self.aware and with_entities):
                q = lin(sa.query, rows)
                return q, None
            H = rows.size(-1)
            if last:
                r = rows.view(B, -1, H)
                w, e = r[:, :n_word].reshape(-1, H), r[:, n_word:].reshape(-1, H)

                def join(a, b):
                    return torch.cat([a.view(B, -1, H), b.view(B, -1, H)], 1).reshape(-1, H)
            else:
                w, e = rows[:n_word], rows[n_word:]

                def join(a, b):
                    return torch.cat([a, b], 0)

            return join(lin(sa.query, w), lin(sa.e2w_query, e)), join(lin(sa.w2e_query, w), lin(sa.e2e_query, e))

        def attend(self, q_words, q_ents, k, v, L, B, bias):
            # q [B, Q, H] (or packed rows [B * Q, H]); k, v [B, L + E, H] -> [B * Q, H]
            H, d = k.size(-1), self.head_size

            def split(t):
                return t.reshape(B, -1, self.heads, d).transpose(1, 2)

            kt = split(k).transpose(-1, -2)
            if q_ents is None:
                scores = torch.matmul(split(q_words), kt)
            else:
                scores = torch.cat([torch.matmul(split(q_words), kt[..., :L]), torch.matmul(split(q_ents), kt[..., L:])], -1)
            probs = torch.softmax(scores / math.sqrt(d) + bias, dim=-1)
            return torch.matmul(probs, split(v)).transpose(1, 2).reshape(-1, H)

    class PackedGathered(nn.Module):
        def __init__(self, mlm):
            super().__init__()
            self.encoder, self.lm_head, self.entity_predictions = Encoder(mlm), mlm.lm_head, mlm.entity_predictions

        def forward(
            self,
            input_ids,
            attention_mask,
            entity_ids,
            entity_attention_mask,
            entity_token_type_ids,
            entity_position_ids,
            word_positions,
            word_candidates,
            entity_slots,
            entity_candidates,
        ):
            M = word_positions.size(1)
            ents = (entity_ids, entity_attention_mask, entity_token_type_ids, entity_position_ids)
            rows = self.encoder(input_ids, attention_mask, ents, word_positions, entity_slots)
            H = rows.size(-1)
            words = self.lm_head(rows[:, :M].reshape(-1, H))
            found = self.entity_predictions(rows[:, M:].reshape(-1, H))
            return _pick(torch, words, word_positions, word_candidates), _pick(torch, found, entity_slots, entity_candidates)

    class PackedWords(nn.Module):
        def __init__(self, mlm):
            super().__init__()
            self.encoder, self.lm_head = Encoder(mlm), mlm.lm_head

        def forward(self, input_ids, attention_mask, word_positions, word_candidates):
            rows = self.encoder(input_ids, attention_mask, None, word_positions, None)
            return _pick(torch, self.lm_head(rows.reshape(-1, rows.size(-1))), word_positions, word_candidates)

    return PackedGathered, PackedWords


def is_transformers_luke(mlm):
    """transformers' LukeForMaskedLM layout (the packed graphs reach into it); the exporter test's stub has another."""
    return hasattr(getattr(mlm, "luke", None), "encoder") and hasattr(mlm.luke, "embeddings")


def example_inputs(torch, contract, spec):
    """Trace inputs with every dynamic axis above 1, so no size is frozen into the graph, and one padded row."""
    B, L, E, M, K, S, K2 = 2, 7, 2, 2, 3, 1, 4

    def i64(*shape, hi=5):
        return torch.randint(4, hi + 4, shape, dtype=torch.long)

    x = {"input_ids": i64(B, L, hi=100), "attention_mask": torch.ones(B, L, dtype=torch.long), "token_type_ids": torch.zeros(B, L, dtype=torch.long)}
    # The second row is one token shorter, padded as the harness pads (masked out): the packed graphs pack real
    # tokens, and the parity check below must see them do so on a padded batch.
    x["input_ids"][1, -1], x["attention_mask"][1, -1] = 1, 0
    x.update(
        {
            "entity_ids": torch.tensor([[2, 3]] * B),
            "entity_attention_mask": torch.ones(B, E, dtype=torch.long),
            "entity_token_type_ids": torch.zeros(B, E, dtype=torch.long),
            "entity_position_ids": torch.tensor([[[1, 2, -1], [3, 4, 5]]] * B),
            "word_positions": torch.tensor([[1, 2]] * B),
            "word_candidates": i64(B, M, K, hi=100),
            "entity_slots": torch.zeros(B, S, dtype=torch.long),
            "entity_candidates": i64(B, S, K2, hi=3),
        }
    )
    wanted = {n for s in spec.values() for n in s["inputs"]}
    return {n: t for n, t in x.items() if n in wanted}


def export_graph(torch, contract, module, feeds, spec, path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    names = spec["inputs"]
    axes = {n: dict(enumerate(contract["dynamic_axes"][n])) for n in names + spec["outputs"]}
    torch.onnx.export(
        module,
        tuple(feeds[n] for n in names),
        path,
        input_names=names,
        output_names=spec["outputs"],
        dynamic_axes=axes,
        opset_version=17,
        do_constant_folding=True,
    )


# ---------------------------------------------------------------------------------------------------------------
# One weights file for both graphs.


def share_weights(onnx, graphs, out_dir):
    """Moves every initializer of the graphs (path -> ModelProto) into out_dir/weights.bin, each distinct tensor
    once, and points the graphs at it. Returns the number of bytes written."""
    from onnx import external_data_helper as ext

    offsets = {}
    written = 0
    with open(os.path.join(out_dir, "weights.bin"), "wb") as f:
        for model in graphs.values():
            for t in model.graph.initializer:
                raw = t.raw_data if t.HasField("raw_data") else onnx.numpy_helper.to_array(t).tobytes()
                if len(raw) < INLINE_BELOW:
                    continue
                key = hashlib.sha1(raw).hexdigest() + str(len(raw))
                if key not in offsets:
                    pad = (-written) % ALIGN
                    f.write(b"\0" * pad)
                    written += pad
                    offsets[key] = written
                    f.write(raw)
                    written += len(raw)
                ext.set_external_data(t, location="weights.bin", offset=offsets[key], length=len(raw))
                t.data_location = onnx.TensorProto.EXTERNAL
                t.ClearField("raw_data")
                for field in ("float_data", "int64_data", "int32_data", "double_data"):
                    t.ClearField(field)
    return written


def leave_tied_tables_unpacked(model, min_bytes=64 << 20):
    """Declares large tables read both by a Gather (embedding lookup) and by a Gemm/MatMul (the tied output
    projection) as graph inputs with their stored value as default. onnxruntime then neither constant-folds nor
    pre-packs them, so the table stays one copy in memory (1.8 GB less for mluke-base)."""
    users = {}
    for node in model.graph.node:
        for i, name in enumerate(node.input):
            users.setdefault(name, set()).add(node.op_type if node.op_type != "Gemm" or i == 1 else "GemmA")
    declared = {i.name for i in model.graph.input}
    for t in model.graph.initializer:
        size = 4
        for d in t.dims:
            size *= d
        u = users.get(t.name, set())
        if size >= min_bytes and "Gather" in u and ({"Gemm", "MatMul"} & u) and t.name not in declared:
            vi = model.graph.input.add()
            vi.name = t.name
            vi.type.tensor_type.elem_type = t.data_type
            for d in t.dims:
                vi.type.tensor_type.shape.dim.add().dim_value = d


# ---------------------------------------------------------------------------------------------------------------
# Tokenizer, entity vocabulary, config.


def write_tokenizer(tokenizer, vocab_size, out_dir):
    """tokenizer.json from the fast XLM-R tokenizer of the model's own SentencePiece file, with the model's extra
    word tokens (<ent>, <ent2> for mLUKE) at the ids the slow tokenizer gives them."""
    from transformers import XLMRobertaTokenizerFast

    sp = getattr(tokenizer, "vocab_file", None)
    if not sp or not os.path.exists(sp):
        die("the tokenizer has no SentencePiece vocab_file to build a fast tokenizer from")
    fast = XLMRobertaTokenizerFast(vocab_file=sp)
    extra = [t for t in tokenizer.additional_special_tokens if t not in fast.get_vocab()]
    if extra:
        fast.add_special_tokens({"additional_special_tokens": extra})
    for t in extra + ["<s>", "</s>", "<pad>", "<unk>", "<mask>"]:
        a, b = tokenizer.convert_tokens_to_ids(t), fast.convert_tokens_to_ids(t)
        if a != b:
            die(f"token {t}: id {a} in the model's tokenizer but {b} in the fast one")
    if len(fast) != vocab_size:
        die(f"tokenizer has {len(fast)} ids but config vocab_size is {vocab_size}")
    path = os.path.join(out_dir, "tokenizer.json")
    fast.backend_tokenizer.save(path)
    if sp_byte_fallback(sp):
        # transformers' converter drops SentencePiece's byte fallback: a character outside the pieces would become
        # <unk> where the model's own tokenizer gives its UTF-8 bytes. The Unigram model of tokenizers has the flag.
        with open(path, encoding="utf-8") as f:
            j = json.load(f)
        j["model"]["byte_fallback"] = True
        with open(path, "w", encoding="utf-8") as f:
            json.dump(j, f, ensure_ascii=False)
    check_fast_file(tokenizer, path)


def sp_byte_fallback(sp_file):
    from sentencepiece import sentencepiece_model_pb2

    m = sentencepiece_model_pb2.ModelProto()
    with open(sp_file, "rb") as f:
        m.ParseFromString(f.read())
    return m.trainer_spec.byte_fallback


def check_fast_file(tokenizer, path):
    """The written file against the model's own tokenizer, including characters no piece covers."""
    from tokenizers import Tokenizer

    fast = Tokenizer.from_file(path)
    for text in ["Ryō Kase was born in Yokohama .", "[Y]は[X]の母語です", "ولد في القاهرة", "巴黎是法国的首都。", "\u2603 \U0001f600 ǅ ⅷ"]:
        a = tokenizer(text, add_special_tokens=False)["input_ids"]
        b = fast.encode(text, add_special_tokens=False).ids
        if a != b:
            die(f"tokenizer.json and the model's tokenizer disagree on {text!r}: {b} vs {a}")


SPECIAL_ENTITIES = ("[PAD]", "[UNK]", "[MASK]", "[MASK2]")


def read_entity_vocab(path, tokenizer):
    """The tokenizer's own entity vocabulary, or LUKE's original jsonl ({"id", "entities": [[title, lang], ...]})."""
    if path and path.endswith(".jsonl"):
        vocab = {}
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    rec = json.loads(line)
                    for title, lang in rec["entities"]:
                        vocab[title if (title in SPECIAL_ENTITIES or not lang) else f"{lang}:{title}"] = int(rec["id"])
                except (ValueError, KeyError, TypeError) as e:
                    die(f"{path}:{n}: {e}")
        return vocab
    if path:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    vocab = getattr(tokenizer, "entity_vocab", None)
    if not vocab:
        die("the tokenizer has no entity vocabulary; pass --entity-vocab")
    return dict(vocab)


def write_entity_vocab(vocab, size, out_dir):
    if "[MASK2]" not in vocab and max(vocab.values()) + 2 == size:
        vocab["[MASK2]"] = size - 1  # mLUKE's conversion appends it
    for s in ("[PAD]", "[UNK]", "[MASK]"):
        if s not in vocab:
            die(f"entity vocabulary has no {s}")
    top = max(vocab.values()) + 1
    if top != size:
        die(f"entity vocabulary has {top} ids but config entity_vocab_size is {size}")
    with open(os.path.join(out_dir, "entity_vocab.json"), "w", encoding="utf-8") as f:
        json.dump(vocab, f, ensure_ascii=False)


def check_heads(info, model, prefixes=FAMILIES["luke"]["head_keys"]):
    tied = set(getattr(model, "_tied_weights_keys", None) or [])
    missing = [k for k in info.get("missing_keys", []) if k.startswith(tuple(prefixes)) and k not in tied]
    if missing:
        die(
            f"the checkpoint has no trained prediction heads (transformers initialised {', '.join(sorted(missing)[:4])}"
            f"{'...' if len(missing) > 4 else ''}); refusing to export random heads"
        )


def write_bert_tokenizer(tokenizer, vocab_size, out_dir):
    """tokenizer.json of a WordPiece model, as transformers converts BERT's vocab.txt, checked against the slow tokenizer."""
    from transformers import BertTokenizer, BertTokenizerFast

    if not hasattr(tokenizer, "save_vocabulary") or not hasattr(tokenizer, "vocab"):
        die("the tokenizer is not a WordPiece (BERT) tokenizer with a vocab.txt")
    lower = bool(getattr(tokenizer, "do_lower_case", False))
    with tempfile.TemporaryDirectory() as tmp:
        vocab = tokenizer.save_vocabulary(tmp)[0]
        slow = BertTokenizer(vocab_file=vocab, do_lower_case=lower)
        fast = BertTokenizerFast(vocab_file=vocab, do_lower_case=lower)
    for text in ["Ryō Kase was born in Yokohama .", "[X]は[Y]の母語です", "ولد في القاهرة", "巴黎是法国的首都。", "Paris is the capital of [MASK] ."]:
        a, b = slow(text)["input_ids"], fast(text)["input_ids"]
        if a != b:
            die(f"fast and slow WordPiece tokenizers disagree on {text!r}: {a} vs {b}")
    if len(fast) != vocab_size:
        die(f"tokenizer has {len(fast)} ids but config vocab_size is {vocab_size}")
    fast.backend_tokenizer.save(os.path.join(out_dir, "tokenizer.json"))


# ---------------------------------------------------------------------------------------------------------------
# Parity: the exported graphs against the torch model they came from.


def check_parity(torch, ort, mlm, out_dir, spec, family, tolerance, feeds=None):
    """The largest |onnxruntime - torch| over every graph on the trace inputs (a padded batch); dies above tolerance."""
    contract = load_contract()
    feeds = feeds or example_inputs(torch, contract, spec)
    opts = ort.SessionOptions()
    opts.log_severity_level = 3

    def run(v):
        session = ort.InferenceSession(os.path.join(out_dir, spec[v]["file"]), opts, providers=["CPUExecutionProvider"])
        return session.run(None, {n: feeds[n].numpy() for n in spec[v]["inputs"]})

    heads = FAMILIES[family]["heads"]
    mlm.eval()
    with torch.no_grad():
        ref = mlm(**{n: feeds[n] for n in spec["naive"]["inputs"]}, return_dict=True)
        plain = mlm(**{n: feeds[n] for n in spec["words"]["inputs"] if n in spec["naive"]["inputs"]}, return_dict=True) if "words" in spec else None
    worst = max(float(abs(g - getattr(ref, HEADS[h]["naive"]).numpy()).max()) for g, h in zip(run("naive"), heads))

    def picked(out, head):
        lp = torch.log_softmax(getattr(out, HEADS[head]["naive"]), -1)
        pos, cand = (feeds[n] for n in contract["heads"][head]["gather_inputs"])
        return torch.gather(torch.gather(lp, 1, pos.unsqueeze(-1).expand(-1, -1, lp.size(-1))), 2, cand).numpy()

    worst = max([worst] + [float(abs(g - picked(ref, h)).max()) for g, h in zip(run("gathered"), heads)])
    if plain is not None:
        worst = max(worst, float(abs(run("words")[0] - picked(plain, "word")).max()))
    # one line, "<family> max_abs=<x>", that the tests read: onnxruntime against torch over every graph
    print(f"{family} max_abs={worst:.3e} (onnxruntime vs torch over every graph, tolerance {tolerance:g})")
    if not worst <= tolerance:
        die(f"exported graphs differ from the torch model by {worst:.2e} (> {tolerance:g})")
    return worst


# ---------------------------------------------------------------------------------------------------------------


def export_model(torch, onnx, mlm, family, config, out_dir, origin, write_side_files, unpack_min_bytes=64 << 20, random_weights=False):
    """Everything after loading, into out_dir: graphs, shared weights, config, side files (a callback: tokenizer,
    entity vocabulary), manifest. Returns the graphs' spec."""
    contract = load_contract()
    spec = graph_spec(contract, family)
    heads = FAMILIES[family]["heads"]
    os.makedirs(out_dir, exist_ok=True)
    mlm.eval()
    Gathered, Naive = _modules(torch, contract)
    build = {
        "gathered": lambda s: Gathered(mlm, family, s["inputs"], heads),
        "naive": lambda s: Naive(mlm, family, s["inputs"], heads),
        "words": lambda s: Gathered(mlm, family, s["inputs"], ("word",)),
    }
    if family == "luke" and is_transformers_luke(mlm):
        PackedGathered, PackedWords = _packed_luke_modules(torch)
        build.update({"gathered": lambda s: PackedGathered(mlm), "words": lambda s: PackedWords(mlm)})
    feeds = example_inputs(torch, contract, spec)
    with tempfile.TemporaryDirectory(dir=out_dir) as tmp:
        with torch.no_grad():
            # A wrapper is created in training mode, and torch.onnx.export restores the mode it found, recursively:
            # without eval() here the model comes back with dropout on (the graphs are right, torch is not).
            # Past 2 GB torch writes one external file per tensor, named after it, beside the graph: each graph
            # gets its own directory, or the second export overwrites the first's same-named tensors.
            for v, s in spec.items():
                export_graph(torch, contract, build[v](s).eval(), feeds, s, os.path.join(tmp, v, s["file"]))
        graphs = {v: onnx.load(os.path.join(tmp, v, s["file"]), load_external_data=True) for v, s in spec.items()}
    # The words graph keeps its output table a constant, so onnxruntime pre-packs it (one more copy of the word table,
    # 0.73 GiB at base size, beside the second session's packed encoder): word-only prompts are most of a run's head
    # rows, and an unpacked 250k-row head runs slower (an 8-row batch 315 vs 269 ms). The gathered graph reads the
    # word head only for prompts that feed entities and rank by words (entity-word), and keeps the table a single copy.
    leave_tied_tables_unpacked(graphs["gathered"], unpack_min_bytes)
    weight_bytes = share_weights(onnx, graphs, out_dir)
    for v, s in spec.items():
        onnx.save_model(graphs[v], os.path.join(out_dir, s["file"]))
    files = contract["files"]
    with open(os.path.join(out_dir, files["config"]), "w") as f:
        json.dump(config, f, indent=2)
    write_side_files(out_dir)
    manifest = {
        "format": contract["format"],
        "family": family,
        "architecture": "luke" if "entity" in heads else "word-only",
        "random_weights": random_weights,
        "origin": origin,
        "graphs": spec,
        "files": {
            "tokenizer": files["tokenizer"],
            "config": files["config"],
            "weights": [files["weights"]],
            **({"entity_vocab": files["entity_vocab"]} if "entity" in heads else {}),
        },
    }
    with open(os.path.join(out_dir, contract["manifest"]), "w") as f:
        json.dump(manifest, f, indent=2)
    print(f"graphs written: {family}, {', '.join(s['file'] for s in spec.values())}, {weight_bytes / 2**20:.0f} MiB of weights shared by them")
    return spec


# ---------------------------------------------------------------------------------------------------------------
# The output: written aside, moved into place once the export passed its own check.


def earlier_source(out):
    """The source an mlama checkpoint in OUT was exported from, or None (made otherwise, or unreadable)."""
    try:
        with open(os.path.join(out, MANIFEST), encoding="utf-8") as f:
            origin = json.load(f).get("origin")
    except (OSError, ValueError, AttributeError):
        return None
    source = origin.get("source") if isinstance(origin, dict) and origin.get("exporter") == "tools/export_mluke.py" else None
    return os.path.realpath(source) if isinstance(source, str) and os.path.isdir(source) else None


def aside(out, source):
    """A hidden sibling folder to write into. An existing OUT is replaced only when it is empty or an earlier export
    of this same source: another model's checkpoint (a trained one, make-checkpoint's, another export) is never lost."""
    out = os.path.abspath(out)
    if os.path.exists(out):
        if not os.path.isdir(out):
            die(f"{out}: exists and is not a directory")
        if os.listdir(out) and not os.path.exists(os.path.join(out, MANIFEST)):
            die(f"{out}: exists and is neither empty nor an mlama checkpoint; choose a new folder (nothing was written)")
        if os.listdir(out) and earlier_source(out) != os.path.realpath(source):
            die(
                f"{out}: holds a checkpoint that is not an earlier export of {source} ({MANIFEST}: origin); "
                "choose a new folder, or remove it first (nothing was written)"
            )
    parent = os.path.dirname(out)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f".{os.path.basename(out)}.export-", dir=parent)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)  # mkdtemp's 0700 would follow the folder into place
    return tmp


def move_into_place(tmp, out):
    """Replaces OUT (empty, or an earlier export) by the finished export."""
    out = os.path.abspath(out)
    old = None
    if os.path.exists(out):
        old = tempfile.mkdtemp(prefix=f".{os.path.basename(out)}.old-", dir=os.path.dirname(out))
        os.rmdir(old)
        os.rename(out, old)
    os.rename(tmp, out)
    if old:
        shutil.rmtree(old)


def load(a, family):
    """The model and its slow tokenizer (the SentencePiece model itself: the fast XLM-R conversion drops byte fallback)."""
    from transformers import AutoModelForMaskedLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    # Heads are checked from the loading info below, not from transformers' log, whose advice (generation mixins,
    # newly initialised weights) would only bury the exporter's own lines.
    hf_logging.set_verbosity_error()
    try:
        mlm, info = AutoModelForMaskedLM.from_pretrained(a.source, output_loading_info=True)
    except Exception as e:
        die(f"{a.source}: transformers could not load the model ({type(e).__name__}: {str(e).strip().splitlines()[0] if str(e).strip() else ''})")
    check_heads(info, mlm, FAMILIES[family]["head_keys"])
    try:
        tokenizer = AutoTokenizer.from_pretrained(a.source, use_fast=False)
    except Exception as e:
        die(f"{a.source}: transformers could not load the tokenizer ({type(e).__name__}: {str(e).strip().splitlines()[0] if str(e).strip() else ''})")
    return mlm, tokenizer


def side_files(a, family, tokenizer, cfg):
    def write(out_dir):
        if FAMILIES[family]["tokenizer"] == "wordpiece":
            write_bert_tokenizer(tokenizer, cfg["vocab_size"], out_dir)
        else:
            write_tokenizer(tokenizer, cfg["vocab_size"], out_dir)
        if "entity" in FAMILIES[family]["heads"]:
            write_entity_vocab(read_entity_vocab(a.entity_vocab, tokenizer), cfg["entity_vocab_size"], out_dir)

    return write


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("source", help="directory written by save_pretrained (or a hub name in the local cache)")
    ap.add_argument("out", help="checkpoint directory to write")
    ap.add_argument("--entity-vocab", help="entity vocabulary to use instead of the tokenizer's (.json or LUKE's .jsonl)")
    ap.add_argument("--random-weights", action="store_true", help="the source has random weights (test fixtures): the manifest says so and reports warn")
    ap.add_argument("--tolerance", type=float, default=1e-3, help="largest |difference| between onnxruntime and torch (default 1e-3)")
    ap.add_argument("--word-only", action="store_true", help=argparse.SUPPRESS)  # older command lines; the family comes from model_type
    ap.add_argument("--families-json", action="store_true", help=argparse.SUPPRESS)  # the family table, for the test against src/model/families
    if "--families-json" in sys.argv[1:]:
        print(json.dumps(family_table()))
        return
    a = ap.parse_args()
    try:
        import onnx
        import onnxruntime as ort
        import torch
        import transformers
    except ImportError as e:
        die(
            f"{e.name} is not installed for {sys.executable}: run the exporter as `mlama export SRC OUT`, or with the checkout's "
            f".venv/bin/python tools/export_mluke.py (make python-env creates .venv)"
        )
    a.source = resolve_source(a.source)
    config, family = read_source(a.source, a.entity_vocab)
    tmp = aside(a.out, a.source)
    done = False
    try:
        mlm, tokenizer = load(a, family)
        cfg = mlm.config.to_dict()
        origin = {
            "exporter": "tools/export_mluke.py",
            "graphs_version": GRAPHS_VERSION,
            "source": a.source,
            "transformers": transformers.__version__,
            "torch": torch.__version__,
        }
        spec = export_model(torch, onnx, mlm, family, cfg, tmp, origin, side_files(a, family, tokenizer, cfg), random_weights=a.random_weights)
        check_parity(torch, ort, mlm, tmp, spec, family, a.tolerance)
        move_into_place(tmp, a.out)
        done = True
        print(f"exported {a.source} ({family}) to {a.out}")
    finally:
        if not done:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
