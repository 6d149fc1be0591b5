"""Cut a long streamed reply into segments that are each drawn by their own `ReplySegment`.

A segment is re-parsed on every streamed flush, so it must stay small (about 2 KB: a millisecond of
markdown-it); and the conversation view parks the segments that are far off-screen (see `ReplySegment`), so a
long finished reply keeps about its text, not its rendered lines.

A cut is only made where Markdown allows it without changing the rendering: at the start of a line that
follows a blank line, outside a code fence, and where the new line starts a paragraph, heading, fence or rule
(never a list item, an indented continuation, a block quote, a table row or a link definition).
"""

from __future__ import annotations

import re

from flashchat.render.markdown_blocks import FenceTracker

SEGMENT_CHARS = 2_000  # about 500 tokens: a screen or two of text
_NOT_A_CUT = re.compile(r"^(?:[-*+]\s|\d{1,9}[.)](?:\s|$)|[>|\s]|\[[^\]]*\]:)")
_DECIDING_CHARS = 12  # enough of a line to tell "12. item" from a paragraph


class SegmentSplitter:
    """Feed streamed text; get back what to append to the current segment and where to start new ones.

    `feed` returns a list whose first item is appended to the current segment and whose every further item
    starts a new segment. At a possible cut the first characters of the next line are held back until they
    show whether the line may begin a segment, so text is never written to a segment it does not belong to.
    """

    def __init__(self, segment_chars: int = SEGMENT_CHARS) -> None:
        self.segment_chars = segment_chars
        self._segment_length = 0
        self._line = ""  # the current line so far
        self._fences = FenceTracker()
        self._after_blank_line = False
        self._held: str | None = None  # text held at a possible cut, None when not at one

    def feed(self, text: str) -> list[str]:
        out = [""]
        start = 0
        while start < len(text):
            end = text.find("\n", start)
            end = len(text) if end < 0 else end + 1
            self._take(text[start:end], out)
            start = end
        return out

    def flush(self) -> str:
        """Text still held back at the end of the stream (it belongs to the current segment)."""
        held, self._held = self._held or "", None
        return held

    def _take(self, piece: str, out: list[str]) -> None:
        """`piece` is at most one line, ending with its newline when the line is complete."""
        if self._held is None:
            self._consume(piece, out)
            return
        self._held += piece
        complete = self._held.endswith("\n")
        if not complete and len(self._held) < _DECIDING_CHARS:
            return
        held, self._held = self._held, None
        if held.strip() and not _NOT_A_CUT.match(held):
            out.append("")
            self._segment_length = 0
        self._consume(held, out)

    def _consume(self, piece: str, out: list[str]) -> None:
        out[-1] += piece
        self._segment_length += len(piece)
        self._line += piece
        if not piece.endswith("\n"):
            return
        line, self._line = self._line, ""
        self._fences.feed(line)
        self._after_blank_line = not self._fences.inside and not line.strip()
        if self._after_blank_line and self._segment_length >= self.segment_chars:
            self._held = ""


def split_segments(text: str, segment_chars: int = SEGMENT_CHARS) -> list[str]:
    """A finished text cut the same way it would have been while streaming."""
    splitter = SegmentSplitter(segment_chars)
    parts = splitter.feed(text)
    parts[-1] += splitter.flush()
    return parts
