"""tools/quantize_int8.py: the int8 file names and the manifest it reads and rewrites."""

import json

import pytest
import quantize_int8 as q


def test_int8_names_keep_the_stem_and_default_to_onnx():
    assert q.int8_name("model.onnx") == "model.int8.onnx"
    assert q.int8_name("model.naive.onnx") == "model.naive.int8.onnx"
    assert q.int8_name("graph") == "graph.int8.onnx"


def test_manifest_round_trip_keeps_non_ascii_and_the_trailing_newline(tmp_path):
    path = str(tmp_path / "mlama-checkpoint.json")
    m = {"graphs": {"gathered": {"file": "model.onnx"}}, "origin": {"source": "/modèles/日本"}}
    for newline in (True, False):
        q.write_manifest(path, m, newline)
        text = open(path, encoding="utf-8").read()
        assert text.endswith("\n") == newline
        assert "日本" in text
        assert q.read_manifest(path) == (m, newline)
    assert not (tmp_path / "mlama-checkpoint.json.tmp").exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "missing (not a checkpoint directory"),
        ("{not json", "not readable as JSON"),
        (json.dumps({"graphs": []}), 'field "graphs" missing'),
        (json.dumps([1]), 'field "graphs" missing'),
    ],
)
def test_a_bad_manifest_is_one_line_naming_the_file(tmp_path, capsys, content, message):
    path = tmp_path / "mlama-checkpoint.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(SystemExit) as e:
        q.read_manifest(str(path))
    assert e.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}: ")
    assert message in err
    assert err.count("\n") == 1
