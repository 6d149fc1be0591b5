"""Prompt preparation: what the user typed, a preset, piped input and attached files become the text that is sent.

Every front end prepares a prompt here before anything is sent, so the attachment guard (too many tokens,
an unreadable or binary file) always comes before the request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flashchat.core.attachments import fenced
from flashchat.core.conversation import CONTEXT_WINDOW_TOKENS

if TYPE_CHECKING:
    from flashchat.core.attachments import Attachment
    from flashchat.core.costs import SendEstimate
    from flashchat.core.session import ChatSession


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


@dataclass(frozen=True)
class PreparedPrompt:
    """A prompt ready to send: the text the model gets, and what a front end must check or show first.

    `warning` is set when the attached files are over `attach_warn_tokens` (ask before sending, or say so);
    `refusal` when they cannot fit the context window at all (never send). `estimate` is set when the whole
    request (the conversation so far plus this prompt) is over `large_request_tokens`: show its size and cost
    and send only when the user says so (a script that cannot be asked is told on stderr).
    """

    typed: str  # what the user wrote (`@path` mentions and all), for the composer and prompt history
    text: str  # what is sent: preset, typed text, piped input and each attached file as a fenced block
    attachments: tuple[Attachment, ...] = ()
    attachment_tokens: tuple[int, ...] = ()  # per attachment, from countTokens or estimated
    exact: bool = True  # False when any count is a local estimate (shown as ~N)
    missing: tuple[str, ...] = ()  # `@name` mentions that name no file here (sent as plain text)
    warning: str = ""
    refusal: str = ""
    estimate: SendEstimate | None = None

    @property
    def total_attachment_tokens(self) -> int:
        return sum(self.attachment_tokens)

    def token_label(self, index: int) -> str:
        """`1,234 tokens`, or `~1,234 tokens` for an estimate."""
        return f"{'' if self.exact else '~'}{self.attachment_tokens[index]:,} tokens"


async def prepare_prompt(
    session: ChatSession,
    typed: str,
    *,
    files: Sequence[str] = (),
    stdin_text: str | None = None,
    preset: str = "",
    mentions: bool = True,
    root: Path | None = None,
) -> PreparedPrompt:
    """The one way every front end turns input into a prompt, before anything is sent.

    Files come from `files` (`-f` paths and globs) and, with `mentions`, from `@path` in `typed`. Raises
    `AttachmentError` (one line) for a file that cannot be attached; nothing has been sent then.
    """
    from flashchat.core.attachments import AT_PATH, attach, mentioned_files

    root = root or session.working_dir
    patterns = list(files)
    missing: list[str] = []
    if mentions:
        found = mentioned_files(typed, root)
        patterns += found
        missing = [name for name in AT_PATH.findall(typed) if name not in found and _looks_like_a_path(name)]
    attachments = tuple(attach(patterns, root)) if patterns else ()
    # One countTokens request per file, all at once: a review of ten files waits for one round trip, not ten.
    counts = await asyncio.gather(*(session.count_tokens(attachment.text) for attachment in attachments))
    tokens = tuple(count for count, _ in counts)
    exact = all(is_exact for _, is_exact in counts)
    text = build_prompt(typed, stdin_text, preset=preset, attachments=attachments)
    total = sum(tokens)
    limit = session.settings.attach_warn_tokens
    estimate = "" if exact else "about "
    warning = refusal = ""
    if total > CONTEXT_WINDOW_TOKENS:
        refusal = (
            f"The attached files are {estimate}{total:,} tokens, more than the model's context window "
            f"({CONTEXT_WINDOW_TOKENS:,}); nothing was sent."
        )
    elif total > limit:
        warning = f"The attached files are {estimate}{total:,} tokens (attach_warn_tokens is {limit:,})."
    estimate = await _large_request_estimate(session, build_prompt(typed, stdin_text, preset=preset), total, exact)
    return PreparedPrompt(
        typed=typed,
        text=text,
        attachments=attachments,
        attachment_tokens=tokens,
        exact=exact,
        missing=tuple(missing),
        warning=warning,
        refusal=refusal,
        estimate=estimate,
    )


# Below this share of `large_request_tokens` by a local estimate, the typed text is not worth a countTokens
# round trip: the estimate is within ~25% and the request stays far from the threshold.
_COUNT_FROM_SHARE = 0.75


async def _large_request_estimate(
    session: ChatSession, own_text: str, attachment_tokens: int, attachments_exact: bool
) -> SendEstimate | None:
    """The next request's size and cost when it is over `large_request_tokens`, else None.

    The conversation's part is the last reply's usage (its prompt and output, which the next request sends
    again); the new part is the attachments' counts plus countTokens of the rest of the prompt (typed text,
    preset, piped input). Small prompts in small conversations cost no extra request.
    """
    from flashchat.core.attachments import estimate_tokens
    from flashchat.core.costs import send_estimate

    threshold = session.settings.large_request_tokens
    if not threshold:
        return None
    context = session.conversation.context_tokens()
    own_tokens, own_exact = estimate_tokens(own_text), False
    if context + attachment_tokens + own_tokens < threshold * _COUNT_FROM_SHARE:
        return None
    if own_text:
        own_tokens, own_exact = await session.count_tokens(own_text)
    if context + attachment_tokens + own_tokens < threshold:
        return None
    exact = attachments_exact and (own_exact or not own_text)
    return send_estimate(context, attachment_tokens + own_tokens, exact=exact, settings=session.settings)


def _looks_like_a_path(name: str) -> bool:
    """`@app.py` or `@src/x` was meant as a file; `@here` or `@mention` in prose was not."""
    return "/" in name or "." in name.strip(".")
