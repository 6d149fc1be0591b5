"""Actions that used to live in one front end only, now in each: system prompt and export in the TUI; endpoint
switching, edit-and-resend, code-block copy and thoughts in plain mode; tools only where the provider has them;
the attachment guard before the request in plain mode."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from flashchat.config.settings import Settings, load_settings
from flashchat.testing.fake_gemini import FakeGemini, Reply
from flashchat.testing.fake_openai import FakeOpenAI
from flashchat.testing.fake_openai import Reply as OpenAIReply
from flashchat.tui.app import FlashchatApp
from flashchat.tui.screens.text_prompt_screen import TextPromptScreen
from repl_driver import ENTER, ReplDriver
from support import FAST_RETRIES


def make_app(settings: Settings, config_path: Path) -> FlashchatApp:
    return FlashchatApp(settings, config_path=config_path, retry_policy=FAST_RETRIES, warm_up=False)


async def settle(pilot, condition, steps: int = 1000) -> None:
    for _ in range(steps):
        if condition():
            return
        await pilot.pause(0.01)
    raise AssertionError("timed out waiting for the app")


# -- the TUI


async def test_tui_sets_the_system_prompt_for_the_next_request(fake: FakeGemini, settings, tmp_path: Path) -> None:
    app = make_app(settings, tmp_path / "config.toml")
    async with app.run_test() as pilot:
        await app.run_action("edit_system_prompt")
        await settle(pilot, lambda: isinstance(app.screen, TextPromptScreen))
        await pilot.press(*"Answer in French.", "enter")
        await settle(pilot, lambda: not isinstance(app.screen, TextPromptScreen))
        app.composer.load_text("hello")
        await pilot.press("enter")
        await settle(pilot, lambda: bool(fake.generate_requests()) and not app.replying)
    body = fake.generate_requests()[-1].body
    system = body.get("systemInstruction") or body.get("system_instruction")
    assert system["parts"][0]["text"] == "Answer in French."
    assert app.session.conversation.system_prompt == "Answer in French."


async def test_tui_exports_the_conversation_as_private_json(fake: FakeGemini, settings, tmp_path: Path) -> None:
    from flashchat.store.conversation_store import open_store

    store = open_store()
    app = FlashchatApp(settings, config_path=tmp_path / "c.toml", store=store, retry_policy=FAST_RETRIES, warm_up=False)
    target = tmp_path / "out.json"
    async with app.run_test() as pilot:
        app.composer.load_text("hello")
        await pilot.press("enter")
        await settle(pilot, lambda: not app.replying and len(app.session.conversation.messages) == 2)
        await app.workers.wait_for_complete()
        await app.run_action("export_conversation")
        await settle(pilot, lambda: isinstance(app.screen, TextPromptScreen) and bool(app.screen.query("Input")))
        app.screen.query_one("Input").value = str(target)
        await pilot.press("enter")
        await settle(pilot, target.exists)
    store.close()
    document = json.loads(target.read_text())
    assert [m["text"] for m in document["messages"]] == ["hello", "Echo: hello"]
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


async def test_tui_shows_only_the_tool_badges_an_endpoint_honours(fake_openai: FakeOpenAI, tmp_path: Path) -> None:
    """An OpenAI-compatible endpoint runs the local tools but has no Google Search."""
    settings = Settings(provider="openai", base_url=fake_openai.url, api_key="", google_search=True, local_tools=True)
    app = make_app(settings, tmp_path / "config.toml")
    async with app.run_test() as pilot:
        await pilot.pause()
        assert str(app.query_one("#status-tools").render()).strip() == "files"
        await app.run_action("toggle_tool('google_search')")
        await pilot.pause()
        assert any("not offered" in n.message for n in app._notifications)


# -- plain mode


async def test_repl_switches_endpoint_and_keeps_the_conversation(
    fake: FakeGemini, fake_openai: FakeOpenAI, isolated_home: Path, tmp_path: Path
) -> None:
    config = isolated_home / "config" / "flashchat" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(
        f'base_url = "{fake.url}"\napi_key = "{fake.api_key}"\n\n'
        f'[endpoints.local]\nprovider = "openai"\nbase_url = "{fake_openai.url}"\napi_key = "{fake_openai.api_key}"\n'
        'model = "local-model"\n'
    )
    fake_openai.enqueue(OpenAIReply.text("From the local server."))
    driver = ReplDriver(load_settings(config, environ={}), tmp_path)
    await driver.start()
    driver.type(f"first{ENTER}/thinking high{ENTER}/endpoint local{ENTER}second{ENTER}")
    output = await driver.wait_for_output("From the local server.")
    assert "endpoint: local, local-model" in output
    driver.type(f"/endpoint nowhere{ENTER}")
    assert "endpoint 'nowhere' is not defined; defined endpoints: local" in await driver.wait_for_output("nowhere")
    await driver.quit()
    (request,) = fake_openai.completion_requests()
    assert request.user_texts() == ["first", "second"] and request.reasoning_effort == "high"


async def test_repl_edit_drops_the_last_exchange_and_resends_the_edited_prompt(
    fake: FakeGemini, settings, tmp_path: Path
) -> None:
    driver = ReplDriver(settings, tmp_path)
    await driver.start()
    driver.type(f"one{ENTER}")
    await driver.wait_for_output("Echo: one")
    driver.type(f"/edit{ENTER}")
    await driver.wait_for_output("edit it and press Enter")
    driver.type(f" more{ENTER}")  # the prompt line starts with "one"
    await driver.wait_for_output("Echo: one more")
    await driver.quit()
    assert fake.generate_requests()[-1].user_texts() == ["one more"]
    assert [m.text for m in driver.repl.session.conversation.messages] == ["one more", "Echo: one more"]


async def test_repl_lists_and_copies_code_blocks(fake: FakeGemini, settings, tmp_path: Path) -> None:
    fake.enqueue(Reply.text("Here:\n\n```python\nprint('hi')\n```\n"))
    driver = ReplDriver(settings, tmp_path)
    await driver.start()
    driver.type(f"code please{ENTER}")
    await driver.wait_for_output("print('hi')")
    driver.type(f"/copycode{ENTER}")
    await driver.wait_for_output("python · 1 line")
    driver.type(f"/copycode 1{ENTER}")
    output = await driver.wait_for_output("copied code block 1")
    await driver.quit()
    assert "\x1b]52;c;cHJpbnQoJ2hpJykK\x07" in output  # base64 of "print('hi')\n"


async def test_repl_turns_thoughts_on_and_refuses_tools_the_endpoint_lacks(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    settings = Settings(provider="openai", base_url=fake_openai.url, api_key="")
    driver = ReplDriver(settings, tmp_path)
    await driver.start()
    driver.type(f"/thoughts on{ENTER}/search on{ENTER}/tools{ENTER}")
    output = await driver.wait_for_output("/tools   off")
    await driver.quit()
    assert "/search  not offered here" in output  # the local tools are offered there, Google Search is not
    assert "thought summaries on" in output
    assert "/search: not offered by the openai endpoint in use; nothing changed" in output
    assert driver.repl.session.settings.show_thoughts and not driver.repl.session.settings.google_search


async def test_repl_asks_before_sending_attachments_over_the_limit(
    fake: FakeGemini, settings: Settings, workdir: Path, tmp_path: Path
) -> None:
    driver = ReplDriver(settings.with_overrides("test", attach_warn_tokens=1), tmp_path)
    await driver.start()
    driver.type(f"check @app.py{ENTER}n{ENTER}")
    output = await driver.wait_for_output("not sent")
    assert "[attached app.py: " in output
    assert fake.generate_requests() == []  # the guard came before the request
    driver.type(f"{ENTER}y{ENTER}")  # the prompt is back on the line: Enter sends it again, and this time: yes
    await driver.wait_for_output("Echo: check @app.py")
    await driver.quit()
    assert len(fake.generate_requests()) == 1
