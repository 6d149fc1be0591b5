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

from flashchat.core.attachments import Attachment, fenced
from flashchat.core.conversation import CONTEXT_WINDOW_TOKENS

if TYPE_CHECKING:
    from flashchat.core.costs import SendEstimate
    from flashchat.core.media import MediaAttachment
    from flashchat.core.session import ChatSession


def guess_language(text: str) -> str:
    head = text.lstrip()[:200]
    if head.startswith(("diff --git", "--- ", "Index: ")) or "\n+++ " in head:
        return "diff"
    return ""


def read_stdin(stream: Any, warn: Any) -> str | MediaAttachment:
    """All of stdin: an image, PDF, audio or video (told by its first bytes) as media, anything else as text.

    Text that is not quite UTF-8 is decoded with replacement characters (with a warning); a binary of a type
    flashchat cannot send raises `AttachmentError` (one line), so it is never sent as U+FFFD garbage.
    """
    from flashchat.core.attachments import UNSUPPORTED_TYPE, AttachmentError
    from flashchat.core.media import MediaError, media_from_bytes, sniff

    data = stream.read()
    if mime_type := sniff(data[:64]):
        try:
            return media_from_bytes(data, "stdin", mime_type)
        except MediaError as error:
            raise AttachmentError(str(error)) from None
    if b"\x00" in data[:8192]:
        raise AttachmentError(f"stdin: {UNSUPPORTED_TYPE}; nothing was sent")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        text = data.decode("utf-8", errors="replace")
        if text.count("\ufffd") > max(8, len(text) // 100):
            raise AttachmentError(f"stdin: {UNSUPPORTED_TYPE}; nothing was sent") from None
        warn(
            f"stdin is not valid UTF-8 (first bad byte at offset {error.start}); "
            "undecodable bytes were replaced with U+FFFD."
        )
        return text


def build_prompt(
    prompt: str | None,
    stdin_text: str | None,
    *,
    preset: str = "",
    attachments: Sequence[Attachment | MediaAttachment] = (),
) -> str:
    """Preset, then the user's text, then piped input as a fenced block, then each attached text file (media
    travel as their own parts, beside this text).

    Piped input alone is the prompt as it is.
    """
    has_stdin = stdin_text is not None and bool(stdin_text.strip())
    if has_stdin and not (prompt or preset or any(isinstance(a, Attachment) for a in attachments)):
        return stdin_text or ""
    pieces = [preset, prompt or ""]
    if has_stdin and stdin_text is not None:
        pieces.append(fenced(stdin_text, guess_language(stdin_text)))
    pieces += [attachment.as_prompt_block() for attachment in attachments if isinstance(attachment, Attachment)]
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
    # Text files (in `text`) and media (sent as parts of their own: `media`), in the order they were named.
    attachments: tuple[Attachment | MediaAttachment, ...] = ()
    attachment_tokens: tuple[int, ...] = ()  # per attachment, from countTokens or estimated
    exact: bool = True  # False when any count is a local estimate (shown as ~N)
    missing: tuple[str, ...] = ()  # `@name` mentions that name no file here (sent as plain text)
    warning: str = ""
    refusal: str = ""
    estimate: SendEstimate | None = None

    @property
    def media(self) -> tuple[MediaAttachment, ...]:
        return tuple(item for item in self.attachments if not isinstance(item, Attachment))

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
    stdin_media: MediaAttachment | None = None,
    media: Sequence[MediaAttachment] = (),
    preset: str = "",
    mentions: bool = True,
    root: Path | None = None,
    resolutions: dict[str, str] | None = None,
) -> PreparedPrompt:
    """The one way every front end turns input into a prompt, before anything is sent.

    Files come from `files` (`-f` paths and globs) and, with `mentions`, from `@path` in `typed`; media piped
    on stdin is `stdin_media`, and `media` is media from elsewhere (the clipboard). `resolutions` maps an
    attachment's shown path to its media_resolution. Raises `AttachmentError` (one line) for a file that
    cannot be attached, or a type the provider does not take; nothing has been sent then.
    """
    from flashchat.core.attachments import attach
    from flashchat.core.attachments import mentions as mentions_in

    root = root or session.working_dir
    patterns = list(files)
    missing: list[str] = []
    if mentions:
        named = mentions_in(typed, root)
        patterns += [name for name, exists in named if exists]
        missing = [name for name, exists in named if not exists and _looks_like_a_path(name)]
    found_files = await asyncio.to_thread(attach, patterns, root) if patterns else []
    extra = [*media, *([stdin_media] if stdin_media else [])]
    attachments = tuple(_with_resolutions([*found_files, *extra], resolutions))
    _check_media_types(session, attachments)
    # One countTokens request per file, all at once: a review of ten files waits for one round trip, not ten.
    counts = await asyncio.gather(*(_count(session, attachment) for attachment in attachments))
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


def _with_resolutions(
    attachments: list[Attachment | MediaAttachment], resolutions: dict[str, str] | None
) -> list[Attachment | MediaAttachment]:
    if not resolutions:
        return attachments
    return [
        item.with_resolution(resolutions[item.path])
        if not isinstance(item, Attachment) and item.path in resolutions
        else item
        for item in attachments
    ]


def _check_media_types(session: ChatSession, attachments: Sequence[Attachment | MediaAttachment]) -> None:
    from flashchat.core.attachments import AttachmentError
    from flashchat.core.media import SHORT_NAMES

    accepted = session.capabilities.media_types
    for item in attachments:
        if not isinstance(item, Attachment) and item.ref.mime_type not in accepted:
            kind = SHORT_NAMES.get(item.ref.mime_type, item.ref.mime_type)
            takes = ", ".join(sorted({SHORT_NAMES.get(m, m) for m in accepted})) or "text only"
            raise AttachmentError(
                f"{item.path}: the {session.settings.provider} endpoint does not take {kind} files (it takes {takes})"
            )


async def _count(session: ChatSession, attachment: Attachment | MediaAttachment) -> tuple[int, bool]:
    if isinstance(attachment, Attachment):
        return await session.count_tokens(attachment.text)
    return await session.count_media_tokens(attachment)


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
    if own_text and not _count_changes_nothing(context + attachment_tokens, own_tokens, threshold):
        own_tokens, own_exact = await session.count_tokens(own_text)
    if context + attachment_tokens + own_tokens < threshold:
        return None
    exact = attachments_exact and (own_exact or not own_text)
    return send_estimate(context, attachment_tokens + own_tokens, exact=exact, settings=session.settings)


def _count_changes_nothing(known: int, own_estimate: int, threshold: int) -> bool:
    """The request is over the threshold whatever the typed text counts, and a count would move the figure by under
    1%: every turn of a huge conversation would otherwise wait for a countTokens round trip (and a fresh process
    for the SDK's count models, ~0.1 s of CPU) to refine a few tokens of a million."""
    return known >= threshold and own_estimate * 100 < known


def _looks_like_a_path(name: str) -> bool:
    """`@app.py` or `@src/x` was meant as a file; `@here` or `@mention` in prose was not."""
    return "/" in name or "." in name.strip(".")
