"""Actions, screens and the composer's keys, against the fake Gemini server."""

from __future__ import annotations

import dataclasses
import stat
from pathlib import Path

from flashchat.config.settings import load_settings
from flashchat.testing.fake_gemini import FakeGemini, Reply
from flashchat.tui.actions import tui_actions
from flashchat.tui.screens.help_screen import HelpScreen
from flashchat.tui.screens.picker_screen import PickerScreen
from flashchat.tui.screens.setup_screen import SetupScreen
from flashchat.tui.widgets.reply_view import ReplyView
from flashchat.tui.widgets.thoughts_block import ThoughtsBlock
from flashchat.tui.widgets.user_message import UserMessage

from .pilot_helpers import send, wait_for_reply, wait_until

CODE_REPLY = "Two snippets:\n\n```python\nprint('one')\n```\n\nand\n\n```bash\necho two\necho three\n```\n"


async def test_copy_reply_and_pick_a_code_block_with_its_number(fake: FakeGemini, make_app) -> None:
    fake.enqueue(Reply.text(CODE_REPLY))
    app = make_app()
    async with app.run_test() as pilot:
        await send(pilot, "code please")
        await wait_for_reply(pilot)
        await pilot.press("ctrl+g")
        assert app.clipboard == CODE_REPLY
        await pilot.press("ctrl+o")
        picker = app.screen
        assert isinstance(picker, PickerScreen)
        await pilot.press("2")
        assert app.clipboard == "echo two\necho three\n"
        await pilot.press("ctrl+o", "down", "up", "enter")
        assert app.clipboard == "print('one')\n"


async def test_thoughts_stream_then_collapse_when_the_answer_starts(fake: FakeGemini, make_app, settings) -> None:
    fake.enqueue(Reply.text("The answer.", thoughts=["**Plan**\n\n", "think about it"]))
    app = make_app(settings=dataclasses.replace(settings, show_thoughts=True))
    async with app.run_test() as pilot:
        await send(pilot, "think")
        await wait_for_reply(pilot)
        thoughts = app.query_one(ThoughtsBlock)
        assert thoughts.collapsed and thoughts.title == "Thoughts"
        assert thoughts.text == "**Plan**\n\nthink about it"
        assert app.query_one(ReplyView).text == "The answer."


async def test_edit_last_prompt_then_resend(fake: FakeGemini, make_app) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        await send(pilot, "frist try")
        await wait_for_reply(pilot)
        await pilot.press("ctrl+l")
        assert app.composer.text == "frist try"
        assert not app.query(UserMessage) and not app.query(ReplyView)
        assert app.session.conversation.messages == []
        app.composer.load_text("first try")
        await pilot.press("enter")
        await wait_for_reply(pilot)
        assert fake.generate_requests()[-1].user_texts() == ["first try"]
        assert [m.text for m in app.session.conversation.messages] == ["first try", "Echo: first try"]


async def test_up_on_an_empty_composer_recalls_earlier_prompts(fake: FakeGemini, make_app) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        for prompt in ("one", "two"):
            await send(pilot, prompt)
            await wait_for_reply(pilot)
        await pilot.press("up")
        assert app.composer.text == "two"
        await pilot.press("up")
        assert app.composer.text == "one"
        await pilot.press("down", "down")
        assert app.composer.text == ""
        await pilot.press("x", "ctrl+j", "y")
        assert app.composer.text == "x\ny"


async def test_new_chat_starts_an_empty_conversation(fake: FakeGemini, make_app) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        await send(pilot, "remember me")
        await wait_for_reply(pilot)
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert not app.query(ReplyView)
        await send(pilot, "fresh")
        await wait_for_reply(pilot)
        assert fake.generate_requests()[-1].user_texts() == ["fresh"]


async def test_model_picker_lists_the_apis_models_once(fake: FakeGemini, make_app) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        await pilot.press("f2")
        await wait_until(pilot, lambda: bool(app.screen.query("OptionList").first().option_count))
        await pilot.press("down", "enter")
        assert app.settings.model == "gemini-3-flash-preview"
        await pilot.press("f2")
        await pilot.pause()
        await pilot.press("escape")
        model_lists = [r for r in fake.requests if r.method == "GET" and r.path.endswith("/models")]
        assert len(model_lists) == 1
        await send(pilot, "hi")
        await wait_for_reply(pilot)
        assert fake.generate_requests()[-1].model == "gemini-3-flash-preview"


async def test_command_palette_lists_every_action(make_app) -> None:
    app = make_app()
    async with app.run_test():
        titles = {command.title for command in app.get_system_commands(app.screen)}
        assert {action.title for action, tui in tui_actions() if tui.action != "quit"} <= titles
        assert {"Thinking level: minimal", "Thinking level: high"} <= titles


async def test_palette_command_sets_the_thinking_level(make_app) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        await pilot.press("ctrl+p")
        await pilot.press(*"Thinking level: low")
        await wait_until(
            pilot,
            lambda: "Thinking level: low" in str(app.screen.query("OptionList").first().get_option_at_index(0).prompt),
        )
        await pilot.press("enter")
        await pilot.pause()
        assert app.settings.thinking_level == "low"


async def test_f1_shows_help(make_app) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_setup_screen_saves_the_key_privately(fake: FakeGemini, make_app, settings, config_path: Path) -> None:
    app = make_app(settings=dataclasses.replace(settings, api_key=""))
    async with app.run_test() as pilot:
        await pilot.pause()
        assert isinstance(app.screen, SetupScreen)
        await pilot.press(*fake.api_key)
        assert fake.api_key not in str(app.screen.query_one("#setup-key").render())
        await pilot.press("enter")
        await pilot.pause()
        assert not isinstance(app.screen, SetupScreen)
        assert stat.S_IMODE(config_path.stat().st_mode) == 0o600
        assert load_settings(config_path, environ={}).api_key == fake.api_key
        await send(pilot, "now it works")
        await wait_for_reply(pilot)
        assert app.query_one(ReplyView).text == "Echo: now it works"


async def test_without_a_key_the_setup_screen_can_be_skipped(make_app, settings) -> None:
    app = make_app(settings=dataclasses.replace(settings, api_key=""))
    async with app.run_test() as pilot:
        await pilot.pause()
        await pilot.press("escape")
        assert not isinstance(app.screen, SetupScreen)
        await send(pilot, "hello")
        await pilot.pause()
        assert isinstance(app.screen, SetupScreen)  # sending without a key asks for one again
        await pilot.press("escape")
        assert app.composer.text == "hello"
