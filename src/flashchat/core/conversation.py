"""The conversation model: what was said, exactly as the provider sent it.

A model `Message` keeps the provider-native content (for Gemini, the `Content` dumped with
`model_dump(mode="json", exclude_none=True)`) so thought signatures, function calls and parts this app does
not understand go back to the API byte for byte, also after a restart. `text` and `thoughts` are derived
copies for display and search, never the source of truth for a request.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any, Literal

from flashchat.core.media import MediaLibrary, MediaRef

CONTEXT_WINDOW_TOKENS = 1_048_576

Role = Literal["user", "model"]


@dataclass
class Usage:
    """Token counts of one request, as the server's running total (replace on every chunk, never add)."""

    prompt: int = 0
    output: int = 0
    thoughts: int = 0
    cached: int = 0
    tool_use: int = 0
    total: int = 0
    # Context the server already held and did not count in `prompt` (an Interactions turn that continues a
    # stored interaction reports only the new input): kept for the context meter, never billed here.
    carried: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(*(a + b for a, b in zip(self.as_tuple(), other.as_tuple(), strict=True)))

    def as_tuple(self) -> tuple[int, ...]:
        return (self.prompt, self.output, self.thoughts, self.cached, self.tool_use, self.total, self.carried)

    def context_size(self) -> int:
        """Tokens the conversation holds after this request: what it started from plus what it added."""
        return self.prompt + self.carried + self.output + self.tool_use

    def to_dict(self) -> dict[str, int]:
        return {
            "prompt": self.prompt,
            "output": self.output,
            "thoughts": self.thoughts,
            "cached": self.cached,
            "tool_use": self.tool_use,
            "total": self.total,
            # Only Interactions turns have it: other replies' stored usage and `--json` stay as they were.
            **({"carried": self.carried} if self.carried else {}),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Usage | None:
        if data is None:
            return None
        return cls(*[int(data.get(name) or 0) for name in _USAGE_FIELDS])  # once per stored reply on every load


_USAGE_FIELDS = tuple(usage_field.name for usage_field in fields(Usage))  # stored under these names, in this order


@dataclass
class Message:
    role: Role
    text: str
    thoughts: str = ""
    # Provider-native content exactly as received; None for user messages and for replies that have none.
    # Replaced, never edited in place: a provider keeps each native content's request form by its identity.
    native: dict[str, Any] | None = None
    provider: str = ""
    model: str = ""
    model_version: str = ""
    thinking_level: str = ""
    usage: Usage | None = None
    finish_reason: str | None = None
    incomplete: bool = False
    stopped: bool = False
    error: str = ""
    created_at: float = field(default_factory=time.time)
    first_token_seconds: float | None = None
    duration_seconds: float | None = None
    id: int | None = None  # row id once stored
    # Reply metadata that is shown but never sent back: grounding sources, URL context results.
    extras: dict[str, Any] | None = None
    # The Interactions API's id for this reply when the server stores it (store: true), and the server's
    # base URL: the next turn sends only what is new, with this id as previous_interaction_id.
    interaction_id: str = ""
    interaction_endpoint: str = ""
    # Images, PDFs, audio and video the user attached (their bytes: `Conversation.media`).
    media: list[MediaRef] = field(default_factory=list)

    @property
    def answers_tool_calls(self) -> bool:
        """A user turn the session wrote to answer function calls, not something the user typed."""
        parts = (self.native or {}).get("parts") or []
        if self.role == "user" and (self.native or {}).get("tool_messages"):
            return True  # an OpenAI-compatible endpoint's `role: "tool"` messages
        return self.role == "user" and any("function_response" in part or "functionResponse" in part for part in parts)


@dataclass(frozen=True)
class ToolCall:
    """A function call the model asked for (a local tool)."""

    name: str
    args: dict[str, Any]
    id: str | None = None

    def describe(self) -> str:
        """One line for the approval prompt: what will run, with which arguments.

        The model chose every part of it, so each is shown as a Python repr (which escapes control and bidi
        characters and line breaks) unless it is a plain identifier, and cut at `SHOWN_ARGUMENT_CHARS`: an
        argument can be a whole file, and the question must still fit on the screen.
        """
        shown = ", ".join(f"{_shown_name(key)}={_shown(repr(value))}" for key, value in self.args.items())
        return f"{_shown_name(self.name)}({shown})"


# How much of each tool call argument (or name) `ToolCall.describe` shows.
SHOWN_ARGUMENT_CHARS = 80
# A name or key shown as it is: letters, digits and `_.:-` (nothing a terminal would act on).
_PLAIN_NAME = re.compile(r"[\w.:-]+")


def _shown(text: str) -> str:
    if len(text) <= SHOWN_ARGUMENT_CHARS:
        return text
    return f"{text[:SHOWN_ARGUMENT_CHARS]}… ({len(text) - SHOWN_ARGUMENT_CHARS:,} more characters)"


def _shown_name(name: object) -> str:
    name = str(name)
    return _shown(name if _PLAIN_NAME.fullmatch(name) else repr(name))


@dataclass
class Conversation:
    messages: list[Message] = field(default_factory=list)
    id: str | None = None
    title: str = ""
    system_prompt: str = ""
    model: str = ""
    created_at: float = field(default_factory=time.time)
    updated_at: float = field(default_factory=time.time)
    # Where the bytes of the messages' attachments are read from: this run's files, else the store.
    media: MediaLibrary = field(default_factory=MediaLibrary, repr=False, compare=False)

    def add(self, message: Message) -> Message:
        self.messages.append(message)
        if not self.title and message.role == "user":
            self.title = make_title(message.text)
        return message

    def total_usage(self) -> Usage:
        total = Usage()
        for message in self.messages:
            if message.usage is not None:
                total = total + message.usage
        return total

    def last_reply(self, *, with_usage: bool = False) -> Message | None:
        """The newest model message (with `with_usage`, the newest one the server reported usage for)."""
        return next(
            (m for m in reversed(self.messages) if m.role == "model" and (m.usage is not None or not with_usage)),
            None,
        )

    def context_tokens(self) -> int:
        """Tokens the next request starts from: the last reply's prompt plus what it added."""
        reply = self.last_reply(with_usage=True)
        if reply is None or reply.usage is None:
            return 0
        return reply.usage.context_size()


def make_title(text: str, limit: int = 60) -> str:
    first_line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return first_line if len(first_line) <= limit else first_line[: limit - 1].rstrip() + "…"


@dataclass
class ReplyDraft:
    """A model reply while it streams; the provider fills it, the session turns it into a Message.

    Kept outside the provider so that when a stream dies the session still has everything that arrived.
    """

    model: str
    thinking_level: str
    provider: str = ""
    text_pieces: list[str] = field(default_factory=list)
    thought_pieces: list[str] = field(default_factory=list)
    usage: Usage | None = None
    finish_reason: str | None = None
    finish_message: str = ""
    model_version: str = ""
    block_reason: str = ""
    received_content: bool = False
    started_at: float = field(default_factory=time.monotonic)
    first_token_at: float | None = None
    message_id: int | None = None  # the store row this reply is being written to while it streams
    extras: dict[str, Any] = field(default_factory=dict)
    function_calls: list[ToolCall] = field(default_factory=list)
    # One line the provider wants the user to see with the finished reply (e.g. a request field it dropped).
    notice: str = ""
    interaction_id: str = ""  # see Message.interaction_id
    interaction_endpoint: str = ""
    # Set by the provider: returns the native content built from the parts received so far.
    native_content: Callable[[], dict[str, Any] | None] = lambda: None

    def mark_sent(self) -> None:
        """The request is leaving now: time to first token counts from here, not from the SDK's import or the
        client's construction (about 0.5 s of one-shot start-up that the user's question never waited on)."""
        self.started_at = time.monotonic()

    def mark_content(self) -> None:
        if not self.received_content:
            self.received_content = True
            self.first_token_at = time.monotonic()

    @property
    def text(self) -> str:
        return "".join(self.text_pieces)

    @property
    def thoughts(self) -> str:
        return "".join(self.thought_pieces)

    def to_message(self, *, incomplete: bool = False, stopped: bool = False, error: str = "") -> Message:
        now = time.monotonic()
        return Message(
            role="model",
            text=self.text,
            thoughts=self.thoughts,
            native=self.native_content(),
            provider=self.provider,
            model=self.model,
            model_version=self.model_version,
            thinking_level=self.thinking_level,
            usage=self.usage,
            finish_reason=self.finish_reason,
            incomplete=incomplete,
            stopped=stopped,
            error=error,
            first_token_seconds=(self.first_token_at - self.started_at) if self.first_token_at else None,
            duration_seconds=now - self.started_at,
            id=self.message_id,
            extras=dict(self.extras) or None,
            interaction_id=self.interaction_id,
            interaction_endpoint=self.interaction_endpoint,
        )
