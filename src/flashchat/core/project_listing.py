"""The project's files, listed without running git (for `@path` completion and the `search_text` tool).

`git ls-files` honours the repository's own configuration (`core.fsmonitor`, hooks), so a repository under
review could run a command the moment the user typed `@`. This walks the tree itself and applies the
`.gitignore` files (and `.git/info/exclude`) with pathspec, git's own matching rules, and stops at a count
and a time budget so a huge tree never stalls completion.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from flashchat.core.confined_files import FileRefused, read_confined

# Never worth listing, whether or not a .gitignore says so.
ALWAYS_SKIPPED = frozenset({".git", ".hg", ".svn", ".venv", "node_modules", "__pycache__", ".mypy_cache",
                            ".ruff_cache", ".pytest_cache"})  # fmt: skip
LIST_LIMIT = 20_000
# Enough for a large repository on a warm cache; a cold network mount stops here with what it has.
LIST_SECONDS = 2.0
_IGNORE_FILE_BYTES = 1 << 20


def _ignore_rules(root: Path, relative_file: str) -> Any:
    """The compiled rules of one ignore file (None when there is none or it cannot be read as a file)."""
    import pathspec

    try:
        data = read_confined(root, relative_file, _IGNORE_FILE_BYTES)
    except FileRefused:
        return None
    lines = data.decode("utf-8", errors="replace").splitlines()
    return pathspec.GitIgnoreSpec.from_lines(lines) if lines else None


def list_project_files(root: Path, limit: int = LIST_LIMIT, seconds: float = LIST_SECONDS) -> list[str]:
    """Paths relative to `root`, sorted, of the files git would show (tracked or not ignored), at most `limit`.

    Symlinked directories are not entered (they may lead anywhere, or loop)."""
    root = root.resolve()
    deadline = time.monotonic() + seconds
    found: list[str] = []
    top_rules = [rules for rules in (_ignore_rules(root, ".git/info/exclude"),) if rules is not None]
    # Each pending directory with the ignore rules in force there: (prefix of the rules' directory, rules).
    pending: list[tuple[str, list[tuple[str, Any]]]] = [("", [("", rules) for rules in top_rules])]
    while pending and len(found) < limit and time.monotonic() < deadline:
        directory, rules = pending.pop()
        try:
            with os.scandir(root / directory if directory else root) as scan:
                entries = sorted(scan, key=lambda entry: entry.name, reverse=True)
        except OSError:
            continue
        # Read only where the listing shows one: most directories have none, and opening is the costly part.
        if any(entry.name == ".gitignore" for entry in entries):
            own = _ignore_rules(root, f"{directory}.gitignore")
            if own is not None:
                rules = [*rules, (directory, own)]
        subdirectories: list[str] = []
        for entry in reversed(entries):
            relative = f"{directory}{entry.name}"
            try:
                is_directory = entry.is_dir(follow_symlinks=False)
                if entry.is_symlink() and entry.is_dir():
                    continue  # a symlinked directory may lead anywhere, or loop
            except OSError:
                continue
            if is_directory and entry.name in ALWAYS_SKIPPED:
                continue
            if _ignored(rules, relative + ("/" if is_directory else "")):
                continue
            if is_directory:
                subdirectories.append(relative + "/")
            else:
                found.append(relative)
                if len(found) >= limit:
                    break
        pending.extend((subdirectory, rules) for subdirectory in reversed(subdirectories))
    return sorted(found)


def _ignored(rules: list[tuple[str, Any]], relative: str) -> bool:
    # The deepest .gitignore with an opinion decides (git's precedence); a negation there un-ignores.
    for base, spec in reversed(rules):
        result = spec.check_file(relative[len(base) :])
        if result.include is not None:
            return bool(result.include)
    return False
