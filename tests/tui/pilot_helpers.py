"""Waiting on the app under test: the fake answers over real HTTP, so nothing on screen is instant."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from textual.pilot import Pilot


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


async def send_and_wait_for_streaming(pilot: Pilot, text: str, shown_chars: int = 50):
    """Send `text` and wait until the reply has shown `shown_chars` characters; returns its ReplyView."""
    from flashchat.tui.widgets.reply_view import ReplyView

    await send(pilot, text)
    reply = pilot.app.query_one(ReplyView)
    await wait_until(pilot, lambda: len(reply.text) >= shown_chars)
    return reply
