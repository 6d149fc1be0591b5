"""Providers: Gemini (google-genai, generateContent) and any OpenAI-compatible `/v1/chat/completions` server.

Each provider module imports its SDK lazily, so choosing one costs nothing until the first send; what a
provider can do is declared here, so a front end can show it before the module is imported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flashchat.config.settings import THINKING_LEVELS
from flashchat.core.media import MEDIA_TYPES
from flashchat.providers.base import Capabilities

# What Chat Completions endpoints take as `image_url` data URLs (the OpenAI vision formats).
OPENAI_IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/webp", "image/gif"})

if TYPE_CHECKING:
    from flashchat.config.settings import Settings
    from flashchat.providers.base import Provider

CAPABILITIES: dict[str, Capabilities] = {
    "gemini": Capabilities(
        local_tools=True,
        builtin_tools=frozenset({"google_search", "url_context", "code_execution"}),
        count_tokens=True,
        thinking_levels=THINKING_LEVELS,
        thought_signatures=True,
        media_types=frozenset(MEDIA_TYPES),
    ),
    # The same provider speaking the Interactions API (api = "interactions"): the server can keep the history.
    "gemini_interactions": Capabilities(
        local_tools=True,
        builtin_tools=frozenset({"google_search", "url_context", "code_execution"}),
        count_tokens=True,
        thinking_levels=THINKING_LEVELS,
        thought_signatures=True,
        media_types=frozenset(),
        server_state=True,
    ),
    # Chat Completions: text and images in; text, reasoning and tool calls (the local tools) out.
    "openai": Capabilities(
        local_tools=True,
        builtin_tools=frozenset(),
        count_tokens=False,
        thinking_levels=THINKING_LEVELS,
        thought_signatures=True,  # Gemini's compatible endpoint: extra_content.google.thought_signature
        media_types=OPENAI_IMAGE_TYPES,
    ),
}


def capabilities_for(settings: Settings) -> Capabilities:
    if settings.provider == "openai":
        return CAPABILITIES["openai"]
    return CAPABILITIES["gemini_interactions" if settings.api == "interactions" else "gemini"]


def provider_module(settings: Settings) -> str:
    """The module `provider_for(settings)` imports."""
    return "flashchat.providers.openai_compat" if settings.provider == "openai" else "flashchat.providers.gemini"


def import_provider(settings: Settings) -> None:
    """Import the module `provider_for(settings)` will need, e.g. in a thread once a UI's first frame is up."""
    import importlib

    importlib.import_module(provider_module(settings))


def provider_for(settings: Settings) -> Provider:
    """The provider for `settings.provider`, imported only now (each module loads its HTTP stack)."""
    if settings.provider == "openai":
        from flashchat.providers.openai_compat import OpenAICompatProvider

        return OpenAICompatProvider()
    from flashchat.providers.gemini import GeminiProvider

    return GeminiProvider()
