"""Files of a public repository at one commit, extracted from a fetched git directory at run time (never committed)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path


def extract_commit(git_dir: Path, ref: str, paths: list[str], dest: Path) -> str:
    """`paths` at `ref` into dest, again when dest holds another commit or an extraction that did not finish (the
    .commit stamp is written last); returns the commit."""
    git = ["git", f"--git-dir={git_dir}"]
    commit = run([*git, "rev-parse", "--verify", "-q", f"{ref}^{{commit}}"], f"{git_dir}: no commit {ref}").decode().strip()
    stamp = dest / ".commit"
    if stamp.exists() and stamp.read_text() == commit:
        return commit
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    archive = run([*git, "archive", commit, *paths], f"{git_dir}: git archive {commit[:12]} {' '.join(paths)} failed")
    run(["tar", "-x", "-C", str(dest)], f"{dest}: extracting {git_dir} failed", archive)
    stamp.write_text(commit)
    return commit


def run(cmd: list[str], error: str, stdin: bytes | None = None) -> bytes:
    """A command's output, or one error line naming what failed (and the command's own first line of stderr)."""
    done = subprocess.run(cmd, input=stdin, capture_output=True)
    if done.returncode != 0:
        said = done.stderr.decode(errors="replace").strip().splitlines()
        sys.exit(f"error: {error}{f' ({said[0]})' if said else ''}")
    return done.stdout
