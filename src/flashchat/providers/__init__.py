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


def import_provider_kept(settings: Settings) -> None:
    """`import_provider` for a process that keeps the module until it exits (one-shot mode).

    Why: google-genai makes ~80,000 objects as it imports (a thousand pydantic model classes), all alive until
    the process ends. With the collector on, their making set off collections that walked them again and again
    (~0.06 s of CPU), and every later full collection walked them once more: while the reply streams, and at
    exit, where Python collects several times as it tears the modules down (~0.15 s). Made with the collector
    paused and then frozen (`gc.freeze`: left out of every later collection), they cost their import only
    (bench/gemini_chunks.py: ~0.2 s of the Gemini path's `-p` CPU; the OpenAI-compatible one imports far less).
    The few hundred cyclic leftovers of the imports are kept, a fraction of a megabyte."""
    import gc
    import sys

    if provider_module(settings) in sys.modules:
        return  # imported already (a test calling main() again): nothing new to keep out of collections
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        import_provider(settings)
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()


def provider_for(settings: Settings) -> Provider:
    """The provider for `settings.provider`, imported only now (each module loads its HTTP stack)."""
    if settings.provider == "openai":
        from flashchat.providers.openai_compat import OpenAICompatProvider

        return OpenAICompatProvider()
    from flashchat.providers.gemini import GeminiProvider

    return GeminiProvider()
