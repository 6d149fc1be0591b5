"""Message content as a list of typed blocks, as Mistral (Magistral), LiteLLM and some gateways send it.

`content` is normally a string, but may be a list such as
`[{"type": "thinking", "thinking": [{"type": "text", "text": "..."}]}, {"type": "text", "text": "..."}]`
(Mistral), `{"type": "thinking", "thinking": "...", "signature": "..."}` (Anthropic's shape through a
gateway), `{"type": "reasoning", ...}` or `{"type": "output_text", ...}`. Text blocks are the reply; thinking
and reasoning blocks are thoughts; any other block (images, tool references) is kept in the stored message but
not shown. Streamed, each delta's list holds the new pieces.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

TEXT_BLOCKS = frozenset({"text", "output_text"})
THOUGHT_BLOCKS = frozenset({"thinking", "reasoning", "reasoning_text", "summary_text"})
# Where a block keeps its words, in the order they are looked for.
_WORDS = ("text", "thinking", "reasoning", "content", "summary", "value")


def _words(value: Any) -> str:
    """The text of a block's field: a string, a {"value": ...} object, or a list of blocks (Mistral's thinking)."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        return next((_words(value[key]) for key in _WORDS if key in value), "")
    if isinstance(value, list):
        return "".join(_words(item) for item in value)
    return ""


def split_blocks(content: Any) -> tuple[str, str]:
    """(text, thoughts) of a content value: a string is all text; a list is read block by block."""
    if isinstance(content, str):
        return content, ""
    if isinstance(content, Mapping):
        content = [content]  # one block on its own
    if not isinstance(content, list):
        return "", ""
    text, thoughts = [], []
    for block in content:
        if isinstance(block, str):
            text.append(block)
            continue
        if not isinstance(block, Mapping):
            continue
        kind = block.get("type")
        if kind in TEXT_BLOCKS or (kind is None and "text" in block):
            text.append(_words(block.get("text")))
        elif kind in THOUGHT_BLOCKS:
            thoughts.append(next((_words(block[key]) for key in _WORDS if key in block and key != "type"), ""))
    return "".join(text), "".join(thoughts)


def merge_blocks(kept: list[Any], new: list[Any]) -> None:
    """Append streamed blocks to `kept`, joining a text or thinking piece to the block of its kind before it."""
    for block in new:
        previous = kept[-1] if kept else None
        if (
            isinstance(block, Mapping)
            and isinstance(previous, dict)
            and block.get("type") == previous.get("type")
            and block.get("type") in TEXT_BLOCKS | THOUGHT_BLOCKS
            and set(block) <= {"type", "text", "thinking"}
            and set(previous) <= {"type", "text", "thinking", "signature"}
        ):
            field = "text" if "text" in block else "thinking"
            piece, before = block.get(field), previous.get(field, type(block.get(field))())
            if isinstance(piece, str) and isinstance(before, str):
                previous[field] = before + piece
                continue
            if isinstance(piece, list) and isinstance(before, list):
                previous[field] = [*before, *piece]
                continue
        kept.append(dict(block) if isinstance(block, Mapping) else block)


def text_only(content: Any) -> Any:
    """What goes back in a request for stored content: a list becomes its text blocks' text (servers that
    take lists accept a string too; thinking blocks, like reasoning_content, are not sent back)."""
    return split_blocks(content)[0] if isinstance(content, list) else content
