"""Split streamed Markdown into finished top-level blocks so each is rendered once, not on every token.

A block ends at a blank line outside a code fence, or at the line that closes a fence. Only the unfinished
tail is re-rendered while tokens arrive, which keeps long replies linear instead of quadratic.
"""

from __future__ import annotations

import re

_FENCE_OPEN = re.compile(r"^ {0,3}(`{3,}|~{3,})")


class FenceTracker:
    """Whether Markdown read line by line is inside a fenced code block (one rule for every splitter).

    A fence opens with three or more backticks or tildes, indented at most three spaces, and closes with a
    line of only the same character, at least as many of them: a ```` fence holding ``` stays open, and
    ~~~ never closes a backtick fence.
    """

    def __init__(self) -> None:
        self.marker: str | None = None  # the open fence's marker, e.g. "```" or "~~~~"

    @property
    def inside(self) -> bool:
        return self.marker is not None

    def feed(self, line: str) -> bool:
        """Read one whole line; True when it belongs to a fence (opens it, is inside it or closes it)."""
        if self.marker is not None:
            stripped = line.strip()
            if stripped.startswith(self.marker) and set(stripped) == {self.marker[0]}:
                self.marker = None
            return True
        opening = _FENCE_OPEN.match(line)
        if opening:
            self.marker = opening[1]
            return True
        return False


class MarkdownBlockSplitter:
    def __init__(self) -> None:
        self._pending = ""
        self._scanned = 0  # how much of _pending has been looked at line by line
        self._fences = FenceTracker()

    @property
    def tail(self) -> str:
        """Text that does not yet form a finished block."""
        return self._pending

    def feed(self, text: str) -> list[str]:
        """Add streamed text; return the blocks it finished, in order."""
        self._pending += text
        blocks: list[str] = []
        block_start = 0
        while True:
            newline = self._pending.find("\n", self._scanned)
            if newline < 0:
                break
            line = self._pending[self._scanned : newline]
            self._scanned = newline + 1
            if self._ends_block(line):
                block = self._pending[block_start : self._scanned].strip("\n")
                if block:
                    blocks.append(block)
                block_start = self._scanned
        if block_start:
            self._pending = self._pending[block_start:]
            self._scanned -= block_start
        return blocks

    def _ends_block(self, line: str) -> bool:
        if self._fences.feed(line):
            return not self._fences.inside  # the line that closes a fence ends its block
        return not line.strip()
