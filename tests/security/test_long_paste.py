"""A 2 MB single-line paste must not make each keystroke slow: it becomes a chip like a long multi-line paste
(TextArea re-wraps a whole line for each row it draws), and the `@mention` check looks only near the cursor."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from textual import events

from flashchat.config.settings import Settings
from flashchat.testing.fake_gemini import FakeGemini, Reply
from flashchat.tui.app import FlashchatApp
from support import FAST_RETRIES
from tui.pilot_helpers import wait_for_reply, wait_until

LINE = ("lorem ipsum " * 200_000)[:2_000_000]


async def test_a_huge_single_line_paste_becomes_a_chip_and_is_sent_whole(
    fake: FakeGemini, settings: Settings, tmp_path: Path
) -> None:
    fake.enqueue(Reply.text("got it"))
    # 2 MB is ~500k tokens: past large_request_tokens the send would wait for the cost dialog (tested in
    # tests/core/test_large_request_estimate.py); this test is about the paste.
    settings = dataclasses.replace(settings, large_request_tokens=0)
    app = FlashchatApp(settings, config_path=tmp_path / "config.toml", retry_policy=FAST_RETRIES, warm_up=False)
    async with app.run_test() as pilot:
        await pilot.press(*"see ")
        app.composer.post_message(events.Paste(LINE))
        await wait_until(pilot, lambda: "[pasted" in app.composer.text)
        await pilot.press(*" ok")
        assert app.composer.text == "see [pasted: 2,000,000 characters] ok"
        await pilot.press("enter")
        await wait_for_reply(pilot)
    assert fake.generate_requests()[0].user_texts()[0] == f"see {LINE} ok"


async def test_the_mention_check_ignores_what_is_far_left_of_the_cursor(
    fake: FakeGemini, settings: Settings, tmp_path: Path
) -> None:
    app = FlashchatApp(settings, config_path=tmp_path / "config.toml", retry_policy=FAST_RETRIES, warm_up=False)
    async with app.run_test() as pilot:
        app.composer.load_text("@" + "a" * 100_000)
        app.composer.move_cursor(app.composer.document.end)
        await pilot.pause()
        assert app.composer._mention_at_cursor() is None
        await pilot.press(*" @ap")
        assert app.composer._mention_at_cursor() == "ap"
