"""Attaching files and the read-only local tools: confined to the working directory, binary refused."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from flashchat.core.attachments import AttachmentError, attach, project_files
from flashchat.core.conversation import ToolCall
from flashchat.core.local_tools import LocalTools


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "src").mkdir(parents=True)
    (root / "src" / "app.py").write_text("def main():\n    return 'Hello'\n")
    (root / "src" / "util.py").write_text("HELLO = 1\n")
    (root / "README.md").write_text("# Project\n\nSay hello.\n")
    (root / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    (root / "latin1.txt").write_bytes(b"caf\xe9\n")
    (root / "tool.bin").write_bytes(b"\x7fELF\x02\x01\x01\x00\x00\x00")
    (root / "build").mkdir()
    (root / "build" / "out.py").write_text("hello = 'generated'\n")
    (root / ".gitignore").write_text("build/\n")
    (tmp_path / "secret.txt").write_text("outside the project\n")
    return root


def test_files_become_fenced_blocks_with_path_and_language(tree: Path) -> None:
    (attachment,) = attach(["src/app.py"], tree)
    assert attachment.path == "src/app.py" and attachment.language == "python"
    assert attachment.as_prompt_block() == "`src/app.py`:\n\n```python\ndef main():\n    return 'Hello'\n```"
    assert attachment.estimated_tokens == len(attachment.text) // 4


def test_globs_expand_in_order_without_duplicates(tree: Path) -> None:
    found = [a.path for a in attach(["src/*.py", "src/app.py", "**/*.md"], tree)]
    assert found == ["src/app.py", "src/util.py", "README.md"]


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("tool.bin", "tool.bin: not a type flashchat can attach (text, PNG, JPEG"),
        ("latin1.txt", "latin1.txt is not UTF-8 text (bad byte at offset 3)"),
        ("missing.py", "missing.py: no such file"),
        ("src", "src is a directory; name files or a glob such as 'src/**/*.py'"),
        ("*.rs", "*.rs: no files match"),
    ],
)
def test_unattachable_files_are_refused_clearly(tree: Path, pattern: str, message: str) -> None:
    with pytest.raises(AttachmentError, match=message.replace("(", r"\(").replace(")", r"\)").replace("*", r"\*")):
        attach([pattern], tree)


def test_project_files_honour_gitignore(tree: Path) -> None:
    subprocess.run(["git", "init", "-q"], cwd=tree, check=True)
    files = project_files(tree)
    assert "src/app.py" in files and "build/out.py" not in files


def test_tools_read_list_and_search(tree: Path) -> None:
    subprocess.run(["git", "init", "-q"], cwd=tree, check=True)
    tools = LocalTools(tree)
    assert tools.run(ToolCall("read_file", {"path": "src/app.py", "start_line": 2})) == {
        "result": "    return 'Hello'\n"
    }
    assert tools.run(ToolCall("list_directory", {}))["result"] == [
        ".gitignore", "README.md", "build/", "latin1.txt", "logo.png", "src/", "tool.bin",
    ]  # fmt: skip
    hits = tools.run(ToolCall("search_text", {"query": "hello"}))["result"]
    assert hits == ["README.md:3: Say hello.", "src/app.py:2: return 'Hello'", "src/util.py:1: HELLO = 1"]


@pytest.mark.parametrize("path", ["../secret.txt", "/etc/passwd", "src/../../secret.txt", "link-out"])
def test_paths_outside_the_working_directory_are_refused(tree: Path, path: str) -> None:
    os.symlink(tree.parent / "secret.txt", tree / "link-out")
    result = LocalTools(tree).run(ToolCall("read_file", {"path": path}))
    assert "outside the working directory" in result["error"] and "result" not in result


def test_tool_errors_are_results_not_crashes(tree: Path) -> None:
    tools = LocalTools(tree)
    assert (
        "logo.png is a PNG file; only text files can be read here"
        in tools.run(ToolCall("read_file", {"path": "logo.png"}))["error"]
    )
    assert "not a type flashchat can attach" in tools.run(ToolCall("read_file", {"path": "tool.bin"}))["error"]
    assert "unknown tool" in tools.run(ToolCall("delete_everything", {}))["error"]
    assert "bad arguments" in tools.run(ToolCall("read_file", {"file": "x"}))["error"]
    assert "not a directory" in tools.run(ToolCall("list_directory", {"path": "README.md"}))["error"]
