"""tools/export_mluke.py: the source directory checked before transformers sees it, the family table, the graphs."""

import json

import export_mluke as ex
import pytest


def hub(tmp_path, config, files=("model.safetensors", "sentencepiece.bpe.model")):
    d = tmp_path / "hub"
    d.mkdir()
    if config is not None:
        (d / "config.json").write_text(config if isinstance(config, str) else json.dumps(config), encoding="utf-8")
    for f in files:
        (d / f).write_bytes(b"")
    return str(d)


def refused(capsys, src, **kw):
    with pytest.raises(SystemExit) as e:
        ex.read_source(src, **kw)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    return err


def test_a_save_pretrained_directory_gives_its_config_and_family(tmp_path):
    config, family = ex.read_source(hub(tmp_path, {"model_type": "xlm-roberta"}))
    assert (config["model_type"], family) == ("xlm-roberta", "xlmr")


def test_no_model_type_is_guessed_from_the_folder_name(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert refused(capsys, str(empty)) == f"error: {empty / 'config.json'}: missing (not a directory written by save_pretrained)\n"


@pytest.mark.parametrize(
    ("config", "files", "says"),
    [
        ('{"model_type": ', ("model.safetensors",), "config.json: not valid JSON"),
        ({"vocab_size": 3}, ("model.safetensors",), "config.json: no model_type field"),
        ({"model_type": 5}, ("model.safetensors",), "config.json: model_type must be a non-empty string such as 'luke', got 5"),
        ({"model_type": "gpt2"}, ("model.safetensors",), "config.json: model_type 'gpt2' is not a family the harness knows"),
        ({"model_type": "bert"}, ("vocab.txt",), "hub: no weights (model.safetensors or pytorch_model.bin)"),
        ({"model_type": "bert"}, ("pytorch_model.bin",), "vocab.txt: missing"),
        ({"model_type": "luke"}, ("pytorch_model.bin", "sentencepiece.bpe.model"), "entity_vocab.json: missing"),
    ],
)
def test_each_mistake_is_one_line_naming_the_file_or_field(tmp_path, capsys, config, files, says):
    assert says in refused(capsys, hub(tmp_path, config, files))


def test_an_mlama_checkpoint_is_not_a_source(tmp_path, capsys):
    src = hub(tmp_path, {"model_type": "luke"})
    (tmp_path / "hub" / "mlama-checkpoint.json").write_text("{}", encoding="utf-8")
    assert "an mlama checkpoint (mlama-checkpoint.json), already exported" in refused(capsys, src)


def test_every_family_gets_the_contract_graphs_of_its_groups_and_heads():
    contract = ex.load_contract()
    luke = ex.graph_spec(contract, "luke")
    assert sorted(luke) == ["gathered", "naive", "words"]
    assert luke["words"]["inputs"] == ["input_ids", "attention_mask", "word_positions", "word_candidates"]
    assert ex.graph_spec(contract, "bert")["naive"]["inputs"] == ["input_ids", "attention_mask", "token_type_ids"]
    assert "words" not in ex.graph_spec(contract, "xlmr")


def checkpoint_in(tmp_path, origin, extra=("training-facts.jsonl",)):
    out = tmp_path / "out"
    out.mkdir()
    (out / ex.MANIFEST).write_text(json.dumps({"format": "mlama-checkpoint/1", "origin": origin}), encoding="utf-8")
    for f in extra:
        (out / f).write_text("kept\n", encoding="utf-8")
    return out


@pytest.mark.parametrize(
    "origin",
    [
        {"generator": "mlama make-checkpoint", "family": "luke", "preset": "tiny", "seed": 1},
        {"exporter": "tools/export_mluke.py", "source": "tools/known_answer.py --seed 17"},
        {"exporter": "tools/export_mluke.py", "source": "OTHER"},
    ],
)
def test_an_out_holding_another_models_checkpoint_is_refused_and_kept(tmp_path, capsys, origin):
    src = hub(tmp_path, {"model_type": "xlm-roberta"})
    if origin.get("source") == "OTHER":
        other = tmp_path / "other"
        other.mkdir()
        origin = {**origin, "source": str(other)}
    out = checkpoint_in(tmp_path, origin)
    with pytest.raises(SystemExit) as e:
        ex.aside(str(out), src)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{out}: holds a checkpoint that is not an earlier export of {src}" in err
    assert sorted(p.name for p in out.iterdir()) == [ex.MANIFEST, "training-facts.jsonl"]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out.")] == []


def test_an_earlier_export_of_the_same_source_is_replaced(tmp_path):
    src = hub(tmp_path, {"model_type": "xlm-roberta"})
    out = checkpoint_in(tmp_path, {"exporter": "tools/export_mluke.py", "source": src})
    tmp = ex.aside(str(out), src)
    assert tmp.startswith(str(tmp_path / ".out.export-"))
