"""What travels with a conversation: reopened in any front end, it is continued with its own system prompt.

The engine decides this once (`ChatSession.open`); these tests go through each front end as a user would and
check the request the server received and the row in the database.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from flashchat.config.settings import Settings
from flashchat.core.conversation import Conversation, Message
from flashchat.core.session import ChatSession
from flashchat.store.conversation_store import open_store
from flashchat.testing.fake_gemini import FakeGemini, Reply
from flashchat.tui.app import FlashchatApp
from repl_driver import ENTER, ReplDriver
from support import FAST_RETRIES, run_cli

FRENCH = "Answer in French."


def stored_french_conversation() -> str:
    store = open_store()
    conversation = Conversation(system_prompt=FRENCH, model="gemini-3.5-flash")
    for message in (
        Message(role="user", text="Hello?", model="gemini-3.5-flash"),
        Message(role="model", text="Bonjour !", provider="gemini", model="gemini-3.5-flash", finish_reason="STOP"),
    ):
        store.save_message(conversation, conversation.add(message))
    store.close()
    assert conversation.id is not None
    return conversation.id


def system_instruction(fake: FakeGemini) -> str:
    body = fake.generate_requests()[-1].body
    system = body.get("systemInstruction") or body.get("system_instruction") or {}
    return "".join(part.get("text", "") for part in system.get("parts", []))


def stored_system_prompt(conversation_id: str) -> str:
    store = open_store()
    try:
        return store.load(conversation_id).system_prompt
    finally:
        store.close()


async def continue_in_the_tui(settings: Settings, conversation_id: str, config_path: Path) -> None:
    store = open_store()
    app = FlashchatApp(
        settings, config_path=config_path, store=store, conversation_id=conversation_id,
        retry_policy=FAST_RETRIES, warm_up=False,
    )  # fmt: skip
    async with app.run_test() as pilot:
        for _ in range(200):
            await pilot.pause(0.01)
            if app.session.conversation.id == conversation_id:
                break
        app.composer.load_text("Et Python ?")
        await pilot.press("enter")
        for _ in range(1000):
            await pilot.pause(0.01)
            if not app.replying and app.session.conversation.messages[-1].role == "model":
                break
        await app.workers.wait_for_complete()
    store.close()


async def continue_in_the_repl(settings: Settings, conversation_id: str, tmp_path: Path) -> None:
    driver = ReplDriver(settings, tmp_path)
    await driver.start()
    driver.type(f"/open {conversation_id}{ENTER}")
    await driver.wait_for_output(f"opened {conversation_id}")
    driver.type(f"Et Python ?{ENTER}")
    await driver.wait_for_output("Oui.")
    assert await driver.quit() == 0


@pytest.mark.parametrize("front_end", ["tui", "repl", "oneshot"])
async def test_a_reopened_conversation_keeps_its_system_prompt(
    front_end: str, fake: FakeGemini, settings: Settings, cli_env: dict, tmp_path: Path
) -> None:
    """The settings say no system prompt; the conversation says French, and French is what is sent and kept."""
    conversation_id = stored_french_conversation()
    fake.enqueue(Reply.text("Oui."))
    if front_end == "tui":
        await continue_in_the_tui(settings, conversation_id, tmp_path / "config.toml")
    elif front_end == "repl":
        await continue_in_the_repl(settings, conversation_id, tmp_path)
    else:
        result = run_cli(["--cid", conversation_id, "-p", "Et Python ?"], cli_env)
        assert result.returncode == 0, result.stderr
    assert system_instruction(fake) == FRENCH
    assert stored_system_prompt(conversation_id) == FRENCH


def test_a_system_prompt_given_on_the_command_line_wins_and_is_stored(fake: FakeGemini, cli_env: dict) -> None:
    conversation_id = stored_french_conversation()
    result = run_cli(["--cid", conversation_id, "--system", "Answer in German.", "-p", "Und Python?"], cli_env)
    assert result.returncode == 0, result.stderr
    assert system_instruction(fake) == "Answer in German."
    assert stored_system_prompt(conversation_id) == "Answer in German."


async def test_new_starts_from_the_launch_system_prompt_and_settings_are_checked(settings: Settings) -> None:
    session = ChatSession(settings.with_overrides("config", system_prompt="Be brief."))
    session.open(Conversation(system_prompt=FRENCH, model="gemini-3.5-flash"))
    assert session.settings.system_prompt == FRENCH
    session.update_settings(system_prompt="Answer in Italian.")
    assert session.conversation.system_prompt == "Answer in Italian."
    session.new()
    assert session.settings.system_prompt == session.conversation.system_prompt == "Be brief."
    from flashchat.config.settings import ConfigError

    with pytest.raises(ConfigError):
        session.update_settings(thinking_level="extreme")
    assert session.settings.thinking_level == settings.thinking_level


async def test_a_model_stored_by_another_provider_is_not_carried_over(settings: Settings) -> None:
    conversation = Conversation(model="qwen3-8b-instruct")
    conversation.add(Message(role="user", text="hi"))
    conversation.add(Message(role="model", text="hello", provider="openai", model="qwen3-8b-instruct"))
    session = ChatSession(settings, conversation=conversation)
    assert session.settings.model == settings.model
