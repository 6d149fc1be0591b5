"""Plain mode warms the provider up while the user types the first prompt: nothing reaches the server until
something is sent, and the first message still goes out as typed."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from pathlib import Path

from flashchat.config.settings import Settings
from flashchat.testing.fake_gemini import FakeGemini, Reply
from repl_driver import ENTER, ReplDriver


async def _until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.01)


async def test_a_session_that_sends_nothing_sends_no_request(fake: FakeGemini, settings: Settings, tmp_path: Path):
    repl = ReplDriver(settings, tmp_path)
    await repl.start()
    await repl.wait_for_output("Enter sends")
    await _until(lambda: "flashchat.providers.gemini" in sys.modules and repl.repl.session._provider is not None)
    await asyncio.sleep(0.3)  # the warm-up builds the client and request models after creating the provider
    assert await repl.quit() == 0
    assert fake.requests == []


async def test_the_first_message_after_the_warm_up_reaches_the_server_as_typed(
    fake: FakeGemini, settings: Settings, tmp_path: Path
):
    fake.enqueue(Reply.text("Warm reply."))
    repl = ReplDriver(settings, tmp_path)
    await repl.start()
    await _until(lambda: repl.repl.session._provider is not None)
    repl.type("hello" + ENTER)
    await repl.wait_for_output("Warm reply.")
    assert await repl.quit() == 0
    (request,) = fake.generate_requests()
    assert request.user_texts() == ["hello"]
