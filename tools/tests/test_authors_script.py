"""The authors' files are extracted from a git directory once per commit: a moved branch or a cut-short extraction is
extracted again, not read stale."""

import subprocess

import pytest
from authors_script import extract


def git(repo, *args):
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout.strip()


def commit_files(repo, files):
    for name, text in files.items():
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "c")
    return git(repo, "rev-parse", "HEAD")


def test_extract_follows_the_branch_and_redoes_an_unfinished_copy(tmp_path):
    repo = tmp_path / "luke"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "add_mlama")
    files = {"examples/__init__.py": "", "examples/mlama/evaluate.py": "v = 1\n", "luke/__init__.py": "", "README": "not extracted"}
    first = commit_files(repo, files)
    src = tmp_path / "src"
    assert extract(repo, "add_mlama", src) == first
    assert (src / "examples/mlama/evaluate.py").read_text() == "v = 1\n"
    assert not (src / "README").exists()
    # The branch moved: the copy is of the old commit, so it is extracted again.
    second = commit_files(repo, {"examples/mlama/evaluate.py": "v = 2\n"})
    assert extract(repo, "add_mlama", src) == second
    assert (src / "examples/mlama/evaluate.py").read_text() == "v = 2\n"
    # An extraction cut short (no stamp) is redone even though evaluate.py is there.
    (src / ".commit").unlink()
    (src / "luke/__init__.py").unlink()
    extract(repo, "add_mlama", src)
    assert (src / "luke/__init__.py").exists()


def test_extract_names_a_missing_ref_in_one_line(tmp_path):
    repo = tmp_path / "luke"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    commit_files(repo, {"luke/__init__.py": ""})
    with pytest.raises(SystemExit) as e:
        extract(repo, "add_mlama", tmp_path / "src")
    assert str(e.value) == f"error: {repo / '.git'}: no commit add_mlama"
