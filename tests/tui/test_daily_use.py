"""Daily-use defaults of the TUI: thoughts on and the toggle remembered, keys from the config, Ctrl+C, scrolling
from the composer."""

from __future__ import annotations

from pathlib import Path

from flashchat.config.settings import load_settings
from flashchat.testing.fake_gemini import FakeGemini, Reply
from flashchat.tui.app import FlashchatApp
from flashchat.tui.widgets.thoughts_block import ThoughtsBlock
from support import FAST_RETRIES

from .pilot_helpers import send, wait_for_reply


def app_from_config(config_path: Path, fake: FakeGemini) -> FlashchatApp:
    """The app as `flashchat` starts it: settings from the config file (and the fake's URL and key)."""
    settings = load_settings(config_path, {"GEMINI_API_KEY": fake.api_key, "GOOGLE_GEMINI_BASE_URL": fake.url})
    return FlashchatApp(settings, config_path=config_path, retry_policy=FAST_RETRIES, warm_up=False)


async def test_thoughts_are_asked_for_and_shown_by_default(fake: FakeGemini, config_path: Path) -> None:
    fake.enqueue(Reply.text("the answer", thoughts="weighing it up"))
    app = app_from_config(config_path, fake)
    async with app.run_test() as pilot:
        await send(pilot, "why?")
        await wait_for_reply(pilot)
        assert fake.generate_requests()[0].include_thoughts()
        assert app.query_one(ThoughtsBlock)


async def test_turning_thoughts_off_is_saved_for_the_next_run(fake: FakeGemini, config_path: Path) -> None:
    config_path.parent.mkdir(parents=True, exist_ok=True)
    config_path.write_text('theme = "nord"\n')
    app = app_from_config(config_path, fake)
    async with app.run_test() as pilot:
        await app.run_action("toggle_thoughts")
        await pilot.pause()
    assert load_settings(config_path, {}).show_thoughts is False
    assert load_settings(config_path, {}).theme == "nord"
    fake.enqueue(Reply.text("plain"))
    again = app_from_config(config_path, fake)
    async with again.run_test() as pilot:
        await send(pilot, "hi")
        await wait_for_reply(pilot)
    assert not fake.generate_requests()[0].include_thoughts()
