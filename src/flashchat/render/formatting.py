"""Number formats and code-block extraction shared by every front end."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flashchat.core.conversation import Conversation, Message

RECENT_REPLIES_FOR_CODE = 10  # how far back the code-block pickers look


def count(value: int) -> str:
    return f"{value:,}"


def count_noun(value: int, noun: str) -> str:
    """`1 message`, `2 messages`, `1,024 messages`."""
    return f"{count(value)} {noun}" if value == 1 else f"{count(value)} {noun}s"


def bounded_pieces(pieces: Iterable[tuple[str, bool]], limit: int) -> list[tuple[str, bool]]:
    """Untrusted (text, highlighted) pieces of one line (a search snippet) made terminal-safe, line breaks as
    spaces, at most `limit` characters in all (then "…"). Spaces at the pieces' edges stay, unlike one_line's."""
    from flashchat.render.safe_text import terminal_safe

    kept: list[tuple[str, bool]] = []
    room = limit
    for text, highlighted in pieces:
        safe = " ".join(terminal_safe(text).splitlines())
        if len(safe) > room:
            kept.append((safe[:room] + "…", highlighted))
            break
        kept.append((safe, highlighted))
        room -= len(safe)
    return kept


def seconds(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.2f} s" if value < 10 else f"{value:.1f} s"


def usd(value: float | None, *, cents: bool = False) -> str:
    """`$0.0123` for what a reply cost (small sums need the digits); with `cents`, `$0.14` for an estimate."""
    if value is None:
        return "–"
    if cents and value >= 0.01:
        return f"${value:,.2f}"
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
        lines = count_noun(self.line_count, "line")
        return " · ".join(part for part in (self.language or "text", lines, first) if part)


def recent_code_blocks(conversation: Conversation) -> list[CodeBlock]:
    """The code blocks of the last RECENT_REPLIES_FOR_CODE replies, newest reply first (for a copy picker)."""
    replies = [m for m in reversed(conversation.messages) if m.role == "model" and m.text][:RECENT_REPLIES_FOR_CODE]
    return [block for reply in replies for block in code_blocks(reply.text)]


def code_blocks(markdown: str) -> list[CodeBlock]:
    """The fenced and indented code blocks of a Markdown text, in order (also those inside lists)."""
    from markdown_it import MarkdownIt

    return [
        CodeBlock(token.info.split()[0] if token.info.strip() else "", token.content)
        for token in MarkdownIt("gfm-like").parse(markdown)
        if token.type in ("fence", "code_block")
    ]


def reply_usage(message: Message, cost: float | None) -> str:
    """The line under a reply: `1,234 in (1,024 cached) · 64 thinking · 187 out · first token 0.42 s · 1.90 s ·
    $0.0036`. Parts the reply has no figure for are left out."""
    parts: list[str] = []
    usage = message.usage
    if usage is not None:
        cached = f" ({count(usage.cached)} cached)" if usage.cached else ""
        parts.append(f"{count(usage.prompt)} in{cached}")
        if usage.thoughts:
            parts.append(f"{count(usage.thoughts)} thinking")
        parts.append(f"{count(usage.output)} out")
    if message.first_token_seconds is not None:
        parts.append(f"first token {seconds(message.first_token_seconds)}")
    if message.duration_seconds is not None:
        parts.append(seconds(message.duration_seconds))
    if cost is not None:
        parts.append(usd(cost))
    return " · ".join(parts)
