"""Split streamed Markdown into finished top-level blocks so each is rendered once, not on every token.

A block ends at a blank line outside a code fence, or at the line that closes a fence. Only the unfinished
tail is re-rendered while tokens arrive, which keeps long replies linear instead of quadratic.
"""

from __future__ import annotations

import re

_FENCE_OPEN = re.compile(r"^ {0,3}(`{3,}|~{3,})")


class MarkdownBlockSplitter:
    def __init__(self) -> None:
        self._pending = ""
        self._scanned = 0  # how much of _pending has been looked at line by line
        self._fence: str | None = None  # the open fence's marker, e.g. "```" or "~~~~"

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
        if self._fence is not None:
            stripped = line.strip()
            if stripped.startswith(self._fence) and set(stripped) == {self._fence[0]}:
                self._fence = None
                return True
            return False
        opening = _FENCE_OPEN.match(line)
        if opening:
            self._fence = opening[1]
            return False
        return not line.strip()
