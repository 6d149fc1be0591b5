"""Providers turn a conversation into a request and a streamed response into events.

Each provider module imports its SDK lazily, so choosing one costs nothing until the first send.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Protocol

from flashchat.config import Settings
from flashchat.conversation import Conversation, Message, ReplyDraft, ToolCall
from flashchat.events import TextDelta, ThoughtDelta, UsageUpdate

StreamEvent = TextDelta | ThoughtDelta | UsageUpdate


@dataclass(frozen=True)
class ModelInfo:
    name: str  # what to put in `model`, e.g. "gemini-3.5-flash"
    display_name: str = ""
    input_token_limit: int | None = None
    output_token_limit: int | None = None
    thinking: bool = False


class Provider(Protocol):
    name: str

    def stream(self, conversation: Conversation, settings: Settings, draft: ReplyDraft) -> AsyncIterator[StreamEvent]:
        """Stream one reply into `draft`, yielding deltas; raise `ChatError` for every failure."""
        ...

    async def list_models(self, settings: Settings) -> list[ModelInfo]:
        """Models that can chat, from the API; raises `ChatError` like `stream`."""
        ...

    def tool_results_message(self, results: list[tuple[ToolCall, dict[str, Any]]]) -> Message:
        """The user turn answering the function calls of the last reply (only providers that offer tools)."""
        ...

    async def aclose(self) -> None: ...


def import_provider(settings: Settings) -> None:
    """Import the module `provider_for(settings)` will need, e.g. in a thread once a UI's first frame is up."""
    import importlib

    importlib.import_module(
        "flashchat.providers.openai_compat" if settings.provider == "openai" else "flashchat.providers.gemini"
    )


def provider_for(settings: Settings) -> Provider:
    """The provider for `settings.provider`, imported only now (each module loads its HTTP stack)."""
    if settings.provider == "openai":
        from flashchat.providers.openai_compat import OpenAICompatProvider

        return OpenAICompatProvider()
    from flashchat.providers.gemini import GeminiProvider

    return GeminiProvider()
