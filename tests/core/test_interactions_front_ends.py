"""The Gemini API switch (generateContent ↔ Interactions) in each front end, against one fake host that speaks
both (flashchat.testing.fake_interactions routes generateContent to its fake_gemini): the TUI's palette action,
plain mode's /api, one-shot's --api, and the fallback notice where the user reads it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from flashchat.config.settings import Settings
from flashchat.testing.fake_interactions import FakeInteractions, IReply
from flashchat.tui.app import FlashchatApp
from repl_driver import ENTER, ReplDriver
from support import ENV_VARS_TO_CLEAR, FAST_RETRIES, run_cli


@pytest.fixture
def ifake() -> FakeInteractions:
    with FakeInteractions() as server:
        yield server


@pytest.fixture
def host_settings(ifake: FakeInteractions) -> Settings:
    return Settings(api_key=ifake.api_key, base_url=ifake.url, first_token_timeout=20, idle_timeout=20)


async def settle(pilot, condition, steps: int = 1000) -> None:
    for _ in range(steps):
        if condition():
            return
        await pilot.pause(0.01)
    raise AssertionError("timed out waiting for the app")


async def test_tui_switches_to_interactions_and_back(ifake, host_settings, tmp_path: Path) -> None:
    app = FlashchatApp(host_settings, config_path=tmp_path / "c.toml", retry_policy=FAST_RETRIES, warm_up=False)
    async with app.run_test(notifications=True) as pilot:
        app.composer.load_text("one")
        await pilot.press("enter")
        await settle(pilot, lambda: bool(ifake.generate.generate_requests()) and not app.replying)
        await app.run_action("toggle_api")
        await settle(pilot, lambda: bool(app._notifications))
        assert any("55 days" in toast.message for toast in app._notifications), [t.message for t in app._notifications]
        app.composer.load_text("two")
        await pilot.press("enter")
        await settle(pilot, lambda: bool(ifake.create_requests()) and not app.replying)
        await app.run_action("toggle_api")
        app.composer.load_text("three")
        await pilot.press("enter")
        await settle(pilot, lambda: len(ifake.generate.generate_requests()) == 2 and not app.replying)
        await pilot.pause(0.05)
    assert [step["type"] for step in ifake.create_requests()[0].body["input"]][-1] == "user_input"
    assert [m.text for m in app.session.conversation.messages] == [
        "one", "Echo: one", "two", "Echo: two", "three", "Echo: three",
    ]  # fmt: skip
    assert app.session.conversation.messages[3].interaction_id


async def test_repl_api_command_switches_and_shows_the_fallback_notice(ifake, host_settings, tmp_path: Path) -> None:
    driver = ReplDriver(host_settings, tmp_path)
    await driver.start()
    driver.type(f"/api interactions{ENTER}")
    assert "store is on, so Google keeps this chat" in await driver.wait_for_output("Google keeps")
    driver.type(f"first{ENTER}")
    await driver.wait_for_output("Echo: first")
    ifake.expire()
    driver.type(f"second{ENTER}")
    output = await driver.wait_for_output("the whole history was sent this turn")
    assert "Echo: second" in output and "no longer has this conversation" in output
    driver.type(f"/api{ENTER}")
    assert "Gemini API: interactions; use /api generate|interactions" in await driver.wait_for_output("use /api")
    await driver.quit()
    _first, gone, replay = ifake.create_requests()
    assert gone.body["previous_interaction_id"] == driver.repl.session.conversation.messages[1].interaction_id
    assert "previous_interaction_id" not in replay.body


def cli_env(ifake: FakeInteractions) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in ENV_VARS_TO_CLEAR}
    env.update(GEMINI_API_KEY=ifake.api_key, GOOGLE_GEMINI_BASE_URL=ifake.url, PYTHONUNBUFFERED="1")
    return env


def test_one_shot_api_flag_and_continuing_statefully(ifake, isolated_home: Path) -> None:
    ifake.enqueue(IReply.text("Madrid."), IReply.text("Barcelona."))
    env = cli_env(ifake)
    first = run_cli(["-p", "Capital of Spain?", "--api", "interactions"], env)
    assert (first.returncode, first.stdout, first.stderr) == (0, "Madrid.\n", "")
    second = run_cli(["-p", "Second largest city?", "--api", "interactions", "-c"], env)
    assert (second.returncode, second.stdout) == (0, "Barcelona.\n")
    one, two = ifake.create_requests()
    assert "previous_interaction_id" not in one.body
    assert two.body["previous_interaction_id"] in ifake.stored
    assert two.body["input"] == [{"type": "user_input", "content": [{"type": "text", "text": "Second largest city?"}]}]


def test_one_shot_rejects_an_unknown_api(ifake, isolated_home: Path) -> None:
    result = run_cli(["-p", "hi", "--api", "chat"], cli_env(ifake))
    assert result.returncode == 2 and "invalid choice: 'chat'" in result.stderr


def test_config_file_api_value_is_checked(ifake, isolated_home: Path, config_file: Path) -> None:
    config_file.write_text('api = "websocket"\n')
    result = run_cli(["-p", "hi"], cli_env(ifake))
    assert result.returncode == 2
    assert "api = 'websocket' is not allowed; use one of generate, interactions" in result.stderr
