"""A repository under review must never run anything: its .git/config may name commands (core.fsmonitor, hooks)
that `git ls-files` would run. Completion (`@` in the TUI) and the search_text tool list files without git."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from flashchat.config.settings import Settings
from flashchat.core.attachments import project_files
from flashchat.core.conversation import ToolCall
from flashchat.core.local_tools import LocalTools
from flashchat.testing.fake_gemini import FakeGemini
from flashchat.tui.app import FlashchatApp
from flashchat.tui.widgets.path_suggestions import PathSuggestions
from support import FAST_RETRIES
from tui.pilot_helpers import wait_until


@pytest.fixture
def hostile_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A git repository whose configuration and hooks would each create `ran` (outside the tree) if run."""
    root = tmp_path / "repo"
    root.mkdir()
    ran = tmp_path / "ran"
    script = tmp_path / "payload.sh"
    script.write_text(f'#!/bin/sh\necho "$0 $*" >> {ran}\n')
    script.chmod(0o755)
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    hooks = root / ".git" / "hooks"
    for hook in ("post-index-change", "post-checkout", "pre-commit", "reference-transaction", "fsmonitor-watchman"):
        (hooks / hook).write_text(script.read_text())
        (hooks / hook).chmod(0o755)
    with (root / ".git" / "config").open("a") as config:
        config.write(f"[core]\n\tfsmonitor = {script}\n\thooksPath = {hooks}\n[alias]\n\tls-files = !{script}\n")
    (root / "app.py").write_text("print('hello')\n")
    (root / "notes.md").write_text("hello notes\n")
    (root / ".gitignore").write_text("build/\n*.log\n!keep.log\n")
    (root / "build").mkdir()
    (root / "build" / "out.py").write_text("hello = 'generated'\n")
    (root / "debug.log").write_text("hello log\n")
    (root / "keep.log").write_text("hello kept\n")
    (root / "sub").mkdir()
    (root / "sub" / ".gitignore").write_text("secret.txt\n")
    (root / "sub" / "secret.txt").write_text("hello secret\n")
    (root / "sub" / "code.py").write_text("x = 'hello'\n")
    subprocess.run(["git", "-c", "core.fsmonitor=", "-c", "core.hooksPath=/dev/null", "add", "app.py"], cwd=root)
    ran.unlink(missing_ok=True)
    monkeypatch.chdir(root)
    return root, ran


def test_listing_project_files_runs_nothing_and_honours_gitignore(hostile_repo: tuple[Path, Path]) -> None:
    root, ran = hostile_repo
    files = project_files(root)
    assert not ran.exists(), ran.read_text()
    assert files == [".gitignore", "app.py", "keep.log", "notes.md", "sub/.gitignore", "sub/code.py"]


def test_search_text_runs_nothing(hostile_repo: tuple[Path, Path]) -> None:
    root, ran = hostile_repo
    hits = LocalTools(root).run(ToolCall("search_text", {"query": "hello"}))["result"]
    assert not ran.exists()
    assert hits == ["app.py:1: print('hello')", "keep.log:1: hello kept", "notes.md:1: hello notes",
                    "sub/code.py:1: x = 'hello'"]  # fmt: skip


async def test_typing_at_in_the_tui_runs_nothing(
    fake: FakeGemini, settings: Settings, hostile_repo: tuple[Path, Path], tmp_path: Path
) -> None:
    _root, ran = hostile_repo
    app = FlashchatApp(settings, config_path=tmp_path / "config.toml", retry_policy=FAST_RETRIES, warm_up=False)
    async with app.run_test() as pilot:
        await pilot.press(*"look at @ap")
        suggestions = app.query_one(PathSuggestions)
        await wait_until(pilot, lambda: suggestions.display)
        assert suggestions.paths == ["app.py"]
    assert not ran.exists()


# The one process flashchat starts: a clipboard tool (wl-paste, xclip, pngpaste) for a pasted image, a fixed
# command found in PATH's absolute directories only, run from "/" (tests/tui/test_attachments.py).
CLIPBOARD_MODULE = "core/attach_inputs.py"


def test_no_git_subprocess_anywhere_in_the_source() -> None:
    """The only safe git is no git: nothing in src/ starts a process, but for the clipboard tool, and no git."""
    source = Path(__file__).resolve().parents[2] / "src" / "flashchat"
    offenders = [
        str(path.relative_to(source))
        for path in source.rglob("*.py")
        if any(word in path.read_text() for word in ("subprocess", "os.system", "os.popen", "os.exec", "os.spawn"))
    ]
    assert offenders == [CLIPBOARD_MODULE]
    clipboard = (source / CLIPBOARD_MODULE).read_text()
    assert '"git"' not in clipboard and "shell=True" not in clipboard


def test_listing_stops_at_its_count_and_skips_symlinked_directories(tmp_path: Path) -> None:
    root = tmp_path / "big"
    (root / "many").mkdir(parents=True)
    for number in range(300):
        (root / "many" / f"f{number:03}.txt").write_text("x")
    os.symlink(root, root / "loop")  # a symlinked directory is never entered (it would loop)
    os.symlink(tmp_path, root / "up")
    files = project_files(root, limit=50)
    assert len(files) == 50 and all(name.startswith("many/") for name in files)
