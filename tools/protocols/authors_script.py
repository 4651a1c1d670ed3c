"""Runs the mLUKE authors' mLAMA script (studio-ousia/luke, branch add_mlama, examples/mlama/evaluate.py) here,
offline on CPU, with only the changes docs/PROTOCOLS.md lists. Their code is not part of this repository: it is
extracted at run time from a fetched copy of their repository (a git directory) into --src.

    python tools/protocols/authors_script.py --luke-git DIR --src DIR --model HF_DIR --data DATA_ROOT \
        --languages en,ja --out DIR

writes OUT/<mode>-<lang>.json as their script writes it, for mode word (no entity inputs) and entity
(--use-subject-entity --use-object-entity).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from git_extract import extract_commit

HERE = Path(__file__).resolve().parent
MODES = {"word": [], "entity": ["--use-subject-entity", "--use-object-entity"]}
# What their reader and script import, extracted from the branch: nothing else of their repository is read.
PATHS = ["examples/__init__.py", "examples/mlama", "luke"]


def extract(luke_git: Path, ref: str, src: Path) -> str:
    """Their files at `ref` into src (git_extract: again when the branch moved or an extraction was cut short)."""
    if (luke_git / ".git").exists():
        luke_git = luke_git / ".git"
    if not (luke_git / "HEAD").exists():
        sys.exit(f"error: {luke_git}: not a git repository; clone github.com/studio-ousia/luke and give its path as LUKE_GIT")
    return extract_commit(luke_git, ref, PATHS, src)


def model_link(model: Path, out: Path) -> Path:
    """Their EntityVocab picks its loader by the model path: it must contain "mluke" (a name, not a code change)."""
    if "mluke" in str(model):
        return model
    link = out / "mluke-model"
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(model.resolve(), target_is_directory=True)
    return link


def patch_entity_vocab() -> None:
    """transformers' mLUKE vocabulary stores [MASK], [PAD] and [UNK] without a language; their reader asks for them
    under the query's language and would get None. The lookup falls back to the language-less entry for those."""
    from luke.utils import entity_vocab as ev

    original = ev.EntityVocab.get_id

    def get_id(self, title, language, default=None):
        found = original(self, title, language, default)
        if found is default and title in ev.SPECIAL_TOKENS:
            return original(self, title, None, default)
        return found

    ev.EntityVocab.get_id = get_id


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--luke-git", type=Path, required=True, help="a fetched copy of studio-ousia/luke (git directory)")
    ap.add_argument("--ref", default="add_mlama")
    ap.add_argument("--src", type=Path, required=True, help="where their files are extracted (not committed)")
    ap.add_argument("--model", type=Path, required=True, help="transformers save_pretrained directory (LukeForMaskedLM)")
    ap.add_argument("--data", required=True, help="official mLAMA data/ root")
    ap.add_argument("--languages", required=True)
    ap.add_argument("--modes", default="word,entity")
    ap.add_argument("--out", type=Path, required=True)
    a = ap.parse_args()

    commit = extract(a.luke_git, a.ref, a.src)
    print(f"their code: studio-ousia/luke {a.ref} at {commit[:12]} (examples/mlama/evaluate.py, reader.py; luke/)", flush=True)
    a.out.mkdir(parents=True, exist_ok=True)
    model = model_link(a.model, a.out)
    sys.path.insert(0, str(HERE))
    sys.path.insert(0, str(a.src.resolve()))
    import allennlp_standin

    allennlp_standin.install()
    patch_entity_vocab()
    from examples.mlama.evaluate import evaluate_mlama

    for mode in a.modes.split(","):
        for lang in a.languages.split(","):
            out = a.out / f"{mode}-{lang}.json"
            args = [a.data, lang, str(model), str(out), *MODES[mode]]
            evaluate_mlama.main(args=args, standalone_mode=False)
            print(f"authors' script {mode} {lang}: {out}", flush=True)


if __name__ == "__main__":
    main()
