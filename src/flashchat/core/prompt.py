"""Prompt preparation: what the user typed, a preset, piped input and attached files become the text that is sent.

Every front end prepares a prompt here before anything is sent, so the attachment guard (too many tokens,
an unreadable or binary file) always comes before the request.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flashchat.core.attachments import Attachment


def fenced(text: str, info: str = "") -> str:
    """Wrap `text` in a code fence longer than any backtick run inside it."""
    longest, run = 0, 0
    for char in text:
        run = run + 1 if char == "`" else 0
        longest = max(longest, run)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{info}\n{text.rstrip(chr(10))}\n{fence}"


def guess_language(text: str) -> str:
    head = text.lstrip()[:200]
    if head.startswith(("diff --git", "--- ", "Index: ")) or "\n+++ " in head:
        return "diff"
    return ""


def read_stdin(stream: Any, warn: Any) -> str:
    """All of stdin as text; bytes that are not UTF-8 are replaced (with a warning), never a crash."""
    data = stream.read()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        warn(
            f"stdin is not valid UTF-8 (first bad byte at offset {error.start}); "
            "undecodable bytes were replaced with U+FFFD."
        )
        return data.decode("utf-8", errors="replace")


def build_prompt(
    prompt: str | None, stdin_text: str | None, *, preset: str = "", attachments: Sequence[Attachment] = ()
) -> str:
    """Preset, then the user's text, then piped input as a fenced block, then each attached file.

    Piped input alone is the prompt as it is.
    """
    has_stdin = stdin_text is not None and bool(stdin_text.strip())
    if has_stdin and not (prompt or preset or attachments):
        return stdin_text or ""
    pieces = [preset, prompt or ""]
    if has_stdin and stdin_text is not None:
        pieces.append(fenced(stdin_text, guess_language(stdin_text)))
    pieces += [attachment.as_prompt_block() for attachment in attachments]
    return "\n\n".join(piece for piece in pieces if piece)
