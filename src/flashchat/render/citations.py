"""Citation markers in a grounded reply: `…in 2024.[1][3]` where the text each source supports ends.

`groundingSupports[].segment` gives `startIndex`/`endIndex` as UTF-8 byte offsets into the reply's answer
text (checked against the recorded grounded replies in tests/wire: offsets counted in characters land early
after the first `°`), and usually the segment's `text`. The byte offset is used when the text before it ends
with that segment text; otherwise the segment text is looked for (a reply whose shown text differs from the
parts the offsets count, e.g. with code blocks added), and a support that matches neither is left out rather
than marked in the wrong place. Numbers are the 1-based positions of `groundingChunks`, as the sources list.
"""

from __future__ import annotations

from typing import Any

# What precedes a marker that would make it part of Markdown syntax or a word: markers go after it instead.
_MARKDOWN_MARKER = "\\[{number}\\]"
_PLAIN_MARKER = "[{number}]"


def _field(mapping: Any, snake: str, camel: str) -> Any:
    return mapping.get(snake, mapping.get(camel)) if isinstance(mapping, dict) else None


def _chunk_count(grounding: dict[str, Any]) -> int:
    chunks = _field(grounding, "grounding_chunks", "groundingChunks")
    return len(chunks) if isinstance(chunks, list) else 0


def _position(text: str, data: bytes, segment: dict[str, Any], search_from: int) -> int | None:
    """The character position where a supported segment ends in `text`, or None when it cannot be placed."""
    end = _field(segment, "end_index", "endIndex")
    wanted = _field(segment, "text", "text")
    wanted = wanted.strip() if isinstance(wanted, str) else ""
    if isinstance(end, int) and not isinstance(end, bool) and 0 < end <= len(data):
        position = len(data[:end].decode("utf-8", errors="ignore"))
        if not wanted or text[:position].rstrip().endswith(wanted):
            return position
    if wanted:
        found = text.find(wanted, search_from)
        if found < 0:
            found = text.find(wanted)
        if found >= 0:
            return found + len(wanted)
    return None


def citation_marks(text: str, grounding: dict[str, Any] | None) -> list[tuple[int, list[int]]]:
    """(character position, source numbers) for each place in `text` a source supports, in text order."""
    if not text or not isinstance(grounding, dict):
        return []
    supports = _field(grounding, "grounding_supports", "groundingSupports")
    if not isinstance(supports, list):
        return []
    count, data = _chunk_count(grounding), text.encode("utf-8")
    marks: dict[int, set[int]] = {}
    search_from = 0
    for support in supports:
        indices = _field(support, "grounding_chunk_indices", "groundingChunkIndices")
        segment = _field(support, "segment", "segment")
        if not isinstance(indices, list) or not isinstance(segment, dict):
            continue
        numbers = {i + 1 for i in indices if isinstance(i, int) and not isinstance(i, bool) and 0 <= i < count}
        position = _position(text, data, segment, search_from) if numbers else None
        if position is None:
            continue
        search_from = position
        marks.setdefault(position, set()).update(numbers)
    return [(position, sorted(numbers)) for position, numbers in sorted(marks.items())]


def cited_text(text: str, extras: dict[str, Any] | None, *, markdown: bool = True) -> str:
    """`text` with `[n]` markers after each supported segment (escaped for Markdown unless `markdown=False`);
    `text` itself when the reply has no supports that can be placed."""
    marks = citation_marks(text, (extras or {}).get("grounding"))
    if not marks:
        return text
    template = _MARKDOWN_MARKER if markdown else _PLAIN_MARKER
    pieces, previous = [], 0
    for position, numbers in marks:
        pieces.append(text[previous:position])
        pieces.append("".join(template.format(number=number) for number in numbers))
        previous = position
    pieces.append(text[previous:])
    return "".join(pieces)


def has_citations(extras: dict[str, Any] | None) -> bool:
    grounding = (extras or {}).get("grounding")
    return bool(_field(grounding, "grounding_supports", "groundingSupports")) if isinstance(grounding, dict) else False
