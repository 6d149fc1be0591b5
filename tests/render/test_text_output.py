"""Terminal safety of model text, and the Markdown block splitter behind progressive rendering."""

from __future__ import annotations

from flashchat.core.attachments import fenced
from flashchat.core.prompt import build_prompt
from flashchat.render.markdown_blocks import MarkdownBlockSplitter
from flashchat.render.safe_text import json_c1_safe, terminal_safe


def test_escape_and_control_sequences_become_visible_symbols() -> None:
    assert terminal_safe("plain text\twith tab\nand newline") == "plain text\twith tab\nand newline"
    assert terminal_safe("\x1b]52;c;ZXZpbA==\x07") == "␛]52;c;ZXZpbA==␇"
    assert terminal_safe("\x1b[2Jgone") == "␛[2Jgone"
    assert terminal_safe("over\rwrite") == "over␍write"
    assert terminal_safe("windows\r\nline") == "windows\nline"
    assert terminal_safe("\x9b31m C1 CSI \x7f") == "\\x9b31m C1 CSI ␡"
    assert terminal_safe("émoji 🎉 and ünïcödé") == "émoji 🎉 and ünïcödé"


def test_json_output_escapes_c1_and_del() -> None:
    assert json_c1_safe('"a\x9bb\x7f"') == '"a\\u009bb\\u007f"'


def feed_all(pieces: list[str]) -> tuple[list[str], str]:
    splitter = MarkdownBlockSplitter()
    blocks = [block for piece in pieces for block in splitter.feed(piece)]
    return blocks, splitter.tail


def test_blocks_end_at_blank_lines_and_closing_fences() -> None:
    text = "# Title\n\nA paragraph\nthat wraps.\n\n```python\nx = 1\n\ny = 2\n```\nafter the fence\n\n- a\n- b"
    for size in (1, 3, 7, len(text)):
        blocks, tail = feed_all([text[i : i + size] for i in range(0, len(text), size)])
        assert blocks == [
            "# Title",
            "A paragraph\nthat wraps.",
            "```python\nx = 1\n\ny = 2\n```",
            "after the fence",
        ]
        assert tail == "- a\n- b"


def test_an_open_fence_is_never_split() -> None:
    blocks, tail = feed_all(["~~~~\ncode\n\n```\nstill code\n", "\n"])
    assert blocks == [] and tail.startswith("~~~~\ncode")
    blocks, tail = feed_all(["~~~~\ncode\n~~~~\n"])
    assert blocks == ["~~~~\ncode\n~~~~"] and tail == ""


def test_prompt_building() -> None:
    assert build_prompt("q", None) == "q"
    assert build_prompt(None, "just stdin") == "just stdin"
    assert build_prompt("q", "  \n") == "q"
    assert build_prompt("q", "data\n") == "q\n\n```\ndata\n```"
    assert fenced("has ``` inside") == "````\nhas ``` inside\n````"
