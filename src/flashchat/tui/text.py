"""Small text helpers shared by the widgets: safe streaming text and number formats."""

from __future__ import annotations

from dataclasses import dataclass

from flashchat.safetext import terminal_safe


class SafeTextStream:
    """`terminal_safe` for text that arrives in pieces.

    A CR at the end of one piece may be the first half of a CRLF split across two chunks; it is held back
    so the pair still becomes a plain newline instead of a visible ␍.
    """

    def __init__(self) -> None:
        self._pending_cr = False

    def feed(self, text: str) -> str:
        if self._pending_cr:
            text = "\r" + text
            self._pending_cr = False
        if text.endswith("\r"):
            text = text[:-1]
            self._pending_cr = True
        return terminal_safe(text)

    def flush(self) -> str:
        pending, self._pending_cr = self._pending_cr, False
        return terminal_safe("\r") if pending else ""


def count(value: int) -> str:
    return f"{value:,}"


def seconds(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.2f} s" if value < 10 else f"{value:.1f} s"


def usd(value: float | None) -> str:
    if value is None:
        return "–"
    return f"${value:.4f}" if value < 1 else f"${value:,.2f}"


@dataclass(frozen=True)
class CodeBlock:
    language: str
    code: str

    @property
    def line_count(self) -> int:
        return self.code.count("\n") + (0 if self.code.endswith("\n") else 1)

    def summary(self, width: int = 60) -> str:
        """`python · 12 lines · def main():` for a picker."""
        first = next((line.strip() for line in self.code.splitlines() if line.strip()), "")
        if len(first) > width:
            first = first[: width - 1] + "…"
        lines = "1 line" if self.line_count == 1 else f"{count(self.line_count)} lines"
        return " · ".join(part for part in (self.language or "text", lines, first) if part)


def code_blocks(markdown: str) -> list[CodeBlock]:
    """The fenced and indented code blocks of a Markdown text, in order (also those inside lists)."""
    from markdown_it import MarkdownIt

    return [
        CodeBlock(token.info.split()[0] if token.info.strip() else "", token.content)
        for token in MarkdownIt("gfm-like").parse(markdown)
        if token.type in ("fence", "code_block")
    ]
