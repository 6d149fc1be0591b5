"""Daily-use defaults of the TUI: thoughts on and the toggle remembered, keys from the config, Ctrl+C, scrolling
from the composer."""

from __future__ import annotations

from pathlib import Path

from flashchat.config.settings import load_settings
from flashchat.testing.fake_gemini import FakeGemini, Reply
from flashchat.tui.app import FlashchatApp
from flashchat.tui.screens.help_screen import key_table
from flashchat.tui.widgets.reply_view import ReplyView
from flashchat.tui.widgets.thoughts_block import ThoughtsBlock
from flashchat.tui.widgets.usage_panel import UsagePanel
from support import FAST_RETRIES

from .pilot_helpers import send, wait_for_reply, wait_until


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


def write_config(config_path: Path, text: str) -> None:
    config_path.parent.mkdir(parents=True, exist_ok=True)
    config_path.write_text(text)


async def test_a_rebinding_from_the_config_takes_effect(fake: FakeGemini, config_path: Path) -> None:
    """usage moves from Ctrl+U to Ctrl+Y; thoughts (palette-only) gets F9; F1 lists both."""
    write_config(config_path, '[keys]\nusage = "ctrl+y"\nthoughts = "f9"\n')
    app = app_from_config(config_path, fake)
    async with app.run_test() as pilot:
        panel = app.query_one(UsagePanel)
        await pilot.press("ctrl+u")
        assert not panel.display  # the old key no longer opens it
        await pilot.press("ctrl+y")
        assert panel.display
        assert app.settings.show_thoughts
        await pilot.press("f9")
        await pilot.pause()
        assert not app.settings.show_thoughts
        await pilot.press("f1")
        await pilot.pause()
        rows = dict((text.split(":")[0], key) for key, text in key_table(app.key_choices))
        assert rows["Show or hide token usage"] == "ctrl+y" and rows["Show or hide thoughts"] == "f9"


async def test_bad_key_entries_are_one_line_each_and_the_rest_applies(fake: FakeGemini, config_path: Path) -> None:
    write_config(config_path, '[keys]\nusgae = "ctrl+y"\nhistory = "hyper+b"\nnew_chat = "f8"\n')
    app = app_from_config(config_path, fake)
    async with app.run_test() as pilot:
        await pilot.pause()
        toasts = [str(n.message) for n in app._notifications]
        assert any("[keys] usgae: unknown action (did you mean 'usage'?)" in toast for toast in toasts), toasts
        assert any("[keys] history = 'hyper+b': unknown modifier 'hyper'" in toast for toast in toasts), toasts
        assert app.key_choices == {"new_chat": "f8"}


async def test_ctrl_c_stops_a_streaming_reply_and_a_second_one_quits(fake: FakeGemini, config_path: Path) -> None:
    fake.enqueue(Reply.text("word " * 400, chunk_chars=10, delay_s=0.02))
    app = app_from_config(config_path, fake)
    async with app.run_test() as pilot:
        await send(pilot, "talk")
        await wait_until(pilot, lambda: "word" in (app.query(ReplyView).last().text if app.query(ReplyView) else ""))
        await pilot.press("ctrl+c")
        await wait_until(pilot, lambda: not app.replying)
        assert app.is_running
        marker = app.query(ReplyView).last().query_one(".reply-marker")
        assert "stopped" in str(marker.render())
        await pilot.press("ctrl+c")
        await wait_until(pilot, lambda: not app.is_running)


async def test_idle_ctrl_c_asks_first_and_another_key_disarms_it(fake: FakeGemini, config_path: Path) -> None:
    app = app_from_config(config_path, fake)
    async with app.run_test() as pilot:
        await pilot.press("ctrl+c")
        assert app.is_running and any("Ctrl+C again" in str(n.message) for n in app._notifications)
        await pilot.press("a", "ctrl+c")
        assert app.is_running and app.composer.text == "a"
        await pilot.press("ctrl+c")
        await wait_until(pilot, lambda: not app.is_running)


async def test_page_keys_scroll_the_conversation_from_the_composer(fake: FakeGemini, config_path: Path) -> None:
    fake.enqueue(Reply.text("\n\n".join(f"paragraph {n}" for n in range(80))))
    app = app_from_config(config_path, fake)
    async with app.run_test(size=(80, 24)) as pilot:
        await send(pilot, "long")
        await wait_for_reply(pilot)
        view = app.conversation_view
        await wait_until(pilot, lambda: view.scroll_y == view.max_scroll_y > 0)
        assert app.focused is app.composer
        await pilot.press("pageup")
        await wait_until(pilot, lambda: view.scroll_y < view.max_scroll_y)
        await pilot.press("home")  # the composer is empty: Home goes to the start
        await wait_until(pilot, lambda: view.scroll_y == 0)
        await pilot.press("x", "home")  # in text, Home moves the cursor and the view stays
        await pilot.pause()
        assert view.scroll_y == 0 and app.composer.cursor_location == (0, 0)
        await pilot.press("ctrl+end")
        await wait_until(pilot, lambda: view.scroll_y == view.max_scroll_y)
        assert app.composer.text == "x"


async def test_toasts_wait_while_the_tool_dialog_is_up(fake: FakeGemini, config_path: Path, tmp_path, monkeypatch):
    from flashchat.tui.screens.tool_approval_screen import ToolApprovalScreen

    monkeypatch.chdir(tmp_path)
    (tmp_path / "app.py").write_text("print('hi')\n")
    write_config(config_path, "local_tools = true\n")
    fake.enqueue(Reply.function_calls([("read_file", {"path": "app.py"})]))
    fake.enqueue(Reply.text("It prints hi."))
    app = app_from_config(config_path, fake)
    async with app.run_test(size=(80, 24)) as pilot:
        await send(pilot, "what does app.py do?")
        await wait_until(pilot, lambda: isinstance(app.screen, ToolApprovalScreen))
        app.notify("History: the database is busy")
        await pilot.pause()
        assert not any("database is busy" in str(n.message) for n in app._notifications)
        await pilot.press("o")
        await wait_until(pilot, lambda: any("database is busy" in str(n.message) for n in app._notifications))
        await wait_for_reply(pilot)
