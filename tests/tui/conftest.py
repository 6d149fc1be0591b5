"""Fixtures for the TUI tests: an app wired to the fake Gemini server, and helpers to wait on it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot

from conftest import FAST_RETRIES
from flashchat.config import Settings
from flashchat.tui.app import FlashchatApp


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


async def wait_until(pilot: Pilot, condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Let the app run until `condition()` holds (the fake answers over real HTTP, so this is not instant)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("timed out waiting for the app")
        await pilot.pause(0.01)


async def wait_for_reply(pilot: Pilot) -> None:
    """Until the reply worker is done and the screen has caught up."""
    app = pilot.app
    await wait_until(pilot, lambda: not app.replying)
    await app.workers.wait_for_complete()
    await pilot.pause()


async def send(pilot: Pilot, text: str) -> None:
    composer = pilot.app.query_one("#composer")
    composer.load_text(text)
    await pilot.press("enter")
