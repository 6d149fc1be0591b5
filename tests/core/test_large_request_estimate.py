"""The cost estimate before a large request, in each front end: it comes from the last reply's usage plus
countTokens of the new input, and nothing is sent until the user says so (a pipe is told, and it sends)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from flashchat.config.settings import Settings
from flashchat.core.conversation import Conversation, Message, Usage
from flashchat.testing.fake_gemini import FakeGemini, Reply
from flashchat.tui.app import FlashchatApp
from flashchat.tui.screens.cost_estimate_screen import CostEstimateScreen
from flashchat.tui.widgets.user_message import UserMessage
from repl_driver import ENTER, ReplDriver
from support import FAST_RETRIES, run_cli


def long_conversation() -> Conversation:
    """A conversation whose last reply left 899,990 tokens of context (prompt + output), as the server said."""
    usage = Usage(prompt=899_000, output=990, total=899_990)
    return Conversation(
        messages=[
            Message(role="user", text="the whole repository", model="gemini-3.5-flash"),
            Message(role="model", text="Read it.", model="gemini-3.5-flash", usage=usage, finish_reason="STOP"),
        ]
    )


def count_token_requests(fake: FakeGemini) -> list:
    return [request for request in fake.requests if request.path.endswith(":countTokens")]


def app_continuing(conversation: Conversation | None, settings: Settings, tmp_path: Path) -> FlashchatApp:
    return FlashchatApp(
        settings, config_path=tmp_path / "c.toml", conversation=conversation, retry_policy=FAST_RETRIES, warm_up=False
    )


async def wait_for(pilot, condition) -> None:
    for _ in range(1000):
        if condition():
            return
        await pilot.pause(0.01)
    raise AssertionError("timed out waiting for the app")


async def test_tui_shows_size_and_cost_then_esc_goes_back(fake: FakeGemini, settings: Settings, tmp_path) -> None:
    app = app_continuing(long_conversation(), settings, tmp_path)
    async with app.run_test() as pilot:
        app.composer.insert("And now the tests, please")  # 25 characters: 6 tokens by the fake's count
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, CostEstimateScreen))
        summary = str(app.screen.query_one(".estimate-summary").render())
        assert summary == "~900k tokens ≈ $1.35, ≈ $0.14 if cached"
        # Over the threshold whatever those few words count: estimated, without a countTokens round trip.
        assert "899,990 tokens of conversation so far + 6 new (estimated)" in str(
            app.screen.query_one(".estimate-detail").render()
        )
        assert count_token_requests(fake) == [] and fake.generate_requests() == []
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, CostEstimateScreen))
        assert fake.generate_requests() == []
        assert app.composer.text == "And now the tests, please"
        assert len(app.query(UserMessage)) == 1  # only the stored one


async def test_new_words_that_tip_the_request_over_are_counted(fake: FakeGemini, settings: Settings, tmp_path) -> None:
    conversation = long_conversation()
    conversation.messages[-1].usage = Usage(prompt=99_000, output=998, total=99_998)
    app = app_continuing(conversation, settings, tmp_path)
    async with app.run_test() as pilot:
        app.composer.insert("And now the tests, please")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, CostEstimateScreen))
        assert "99,998 tokens of conversation so far + 6 new (counted)" in str(
            app.screen.query_one(".estimate-detail").render()
        )
        assert len(count_token_requests(fake)) == 1


async def test_tui_enter_sends_the_large_request(fake: FakeGemini, settings: Settings, tmp_path) -> None:
    app = app_continuing(long_conversation(), settings, tmp_path)
    async with app.run_test() as pilot:
        app.composer.insert("go on")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, CostEstimateScreen))
        await pilot.press("enter")
        await wait_for(pilot, lambda: len(fake.generate_requests()) == 1 and not app.replying)
        assert fake.generate_requests()[0].user_texts()[-1] == "go on"


async def test_small_requests_cost_no_extra_round_trip(fake: FakeGemini, settings: Settings, tmp_path) -> None:
    app = app_continuing(None, settings, tmp_path)
    async with app.run_test() as pilot:
        app.composer.insert("hello")
        await pilot.press("enter")
        await wait_for(pilot, lambda: len(fake.generate_requests()) == 1 and not app.replying)
        assert count_token_requests(fake) == []


async def test_plain_mode_asks_before_a_large_request(fake: FakeGemini, settings: Settings, tmp_path: Path) -> None:
    driver = ReplDriver(dataclasses.replace(settings, large_request_tokens=5), tmp_path)
    await driver.start()
    driver.type(f"a prompt of about ten tokens, more or less{ENTER}n{ENTER}")
    output = await driver.wait_for_output("not sent")
    assert "large request: ~10 tokens ≈ $0.0000 (0 tokens of conversation so far + 10 new (counted)" in output
    assert fake.generate_requests() == []
    driver.type(f"{ENTER}y{ENTER}")
    await driver.wait_for_output("Echo: a prompt of about ten tokens")
    await driver.quit()
    assert len(fake.generate_requests()) == 1


def test_one_shot_warns_on_stderr_when_piped_and_sends(fake: FakeGemini, cli_env: dict) -> None:
    config = Path(cli_env["XDG_CONFIG_HOME"]) / "flashchat" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text("large_request_tokens = 1000\n")
    fake.enqueue(Reply.text("reviewed"))
    result = run_cli(["-p", "Review this"], cli_env, stdin=b"x = 1\n" * 800)  # 4,800 characters
    assert result.returncode == 0 and result.stdout == "reviewed\n"
    assert "warning: this request is large: ~1.2k tokens ≈ $0.0018 (0 tokens of conversation so far" in result.stderr
    assert len(fake.generate_requests()) == 1
