"""tools/export_mluke.py: reading LUKE's entity vocabulary and writing the checkpoint's."""

import json

import export_mluke as ex
import pytest


def test_luke_jsonl_vocab_names_entities_by_language_and_keeps_specials_bare(tmp_path):
    path = tmp_path / "entity_vocab.jsonl"
    lines = [
        {"id": 0, "entities": [["[PAD]", None]]},
        {"id": 1, "entities": [["[UNK]", None]]},
        {"id": 2, "entities": [["[MASK]", None]]},
        {"id": 3, "entities": [["Tokyo", "en"], ["東京", "ja"]]},
    ]
    path.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n\n", encoding="utf-8")
    assert ex.read_entity_vocab(str(path), None) == {"[PAD]": 0, "[UNK]": 1, "[MASK]": 2, "en:Tokyo": 3, "ja:東京": 3}


def test_a_bad_jsonl_line_is_named(tmp_path, capsys):
    path = tmp_path / "entity_vocab.jsonl"
    path.write_text('{"id": 0, "entities": [["[PAD]", null]]}\n{"id": 1}\n', encoding="utf-8")
    with pytest.raises(SystemExit):
        ex.read_entity_vocab(str(path), None)
    assert capsys.readouterr().err.startswith(f"error: {path}:2: ")


def test_mask2_is_appended_as_mlukes_conversion_does(tmp_path):
    vocab = {"[PAD]": 0, "[UNK]": 1, "[MASK]": 2, "en:Tokyo": 3}
    ex.write_entity_vocab(vocab, 5, str(tmp_path))
    written = json.loads((tmp_path / "entity_vocab.json").read_text(encoding="utf-8"))
    assert written["[MASK2]"] == 4
    assert max(written.values()) + 1 == 5


@pytest.mark.parametrize(
    ("vocab", "size", "message"),
    [
        ({"[PAD]": 0, "[UNK]": 1, "en:X": 2}, 3, "no [MASK]"),
        ({"[PAD]": 0, "[UNK]": 1, "[MASK]": 2}, 9, "3 ids but config entity_vocab_size is 9"),
    ],
)
def test_a_vocab_that_does_not_fit_the_config_is_refused(tmp_path, capsys, vocab, size, message):
    with pytest.raises(SystemExit):
        ex.write_entity_vocab(vocab, size, str(tmp_path))
    assert message in capsys.readouterr().err
    assert not (tmp_path / "entity_vocab.json").exists()
