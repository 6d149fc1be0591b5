"""Fixtures for the TUI tests: an app wired to the fake Gemini server, and helpers to wait on it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from flashchat.config.settings import Settings
from flashchat.tui.app import FlashchatApp
from support import FAST_RETRIES


@pytest.fixture
def config_path(isolated_home: Path) -> Path:
    return isolated_home / "config" / "flashchat" / "config.toml"


@pytest.fixture
def make_app(settings: Settings, config_path: Path) -> Callable[..., FlashchatApp]:
    def make(**kwargs) -> FlashchatApp:
        kwargs.setdefault("retry_policy", FAST_RETRIES)
        kwargs.setdefault("warm_up", False)
        return FlashchatApp(kwargs.pop("settings", settings), config_path=config_path, **kwargs)

    return make
