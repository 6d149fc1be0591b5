"""What a provider is: the protocol every front end's engine talks to, and what each provider declares it can do.

A provider turns a conversation into a request and the streamed response into a few events. Front ends never
ask a provider object what it can do by poking at its attributes: they read its declared `Capabilities`, which
are known before the provider module (and its HTTP stack) is imported.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from flashchat.core.events import TextDelta, ThoughtDelta, Uploading, UsageUpdate

if TYPE_CHECKING:
    from flashchat.config.settings import Settings
    from flashchat.core.conversation import Conversation, Message, ReplyDraft, ToolCall
    from flashchat.core.media import MediaAttachment

StreamEvent = TextDelta | ThoughtDelta | UsageUpdate | Uploading


@dataclass(frozen=True)
class Capabilities:
    """What a provider can do; front ends offer and show only this."""

    local_tools: bool  # function calling, answered by flashchat's read-only local tools
    builtin_tools: frozenset[str]  # the Settings switches of server-side tools it honours
    count_tokens: bool  # an API count of a prompt before it is sent (else a local estimate, marked ~)
    thinking_levels: tuple[str, ...]  # the levels it can send (as thinking_level or reasoning_effort)
    thought_signatures: bool  # it returns signatures that must be echoed back byte for byte
    media_types: frozenset[str]  # MIME types it accepts as attachments beyond plain text
    server_state: bool = False  # conversation state kept on the server (Interactions API)

    def offers(self, setting: str) -> bool:
        """Whether a tool switch (`google_search`, `local_tools`, ...) does anything with this provider."""
        return self.local_tools if setting == "local_tools" else setting in self.builtin_tools


@dataclass(frozen=True)
class ModelInfo:
    name: str  # what to put in `model`, e.g. "gemini-3.5-flash"
    display_name: str = ""
    input_token_limit: int | None = None
    output_token_limit: int | None = None
    thinking: bool = False


class Provider(Protocol):
    name: str
    capabilities: Capabilities

    def stream(
        self, conversation: Conversation, settings: Settings, draft: ReplyDraft
    ) -> AsyncGenerator[StreamEvent, None]:
        """Stream one reply into `draft`, yielding deltas; raise `ChatError` for every failure (an async generator,
        so the session can close it the moment the user stops the reply)."""
        ...

    async def list_models(self, settings: Settings) -> list[ModelInfo]:
        """Models that can chat, from the API; raises `ChatError` like `stream`."""
        ...

    async def aclose(self) -> None: ...


@runtime_checkable
class TokenCounter(Protocol):
    """A provider whose API counts a prompt's tokens (`capabilities.count_tokens`)."""

    async def count_tokens(self, settings: Settings, text: str) -> int: ...


@runtime_checkable
class MediaTokenCounter(Protocol):
    """A provider whose API counts an attached image, PDF, audio or video file's tokens."""

    async def count_media_tokens(self, settings: Settings, attachment: MediaAttachment) -> int: ...


@runtime_checkable
class ToolCaller(Protocol):
    """A provider that can offer the local tools (`capabilities.local_tools`)."""

    def tool_results_message(self, results: list[tuple[ToolCall, dict[str, Any]]]) -> Message:
        """The user turn answering the function calls of the last reply."""
        ...
