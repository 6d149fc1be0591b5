"""`flashchat --plain`: prompt-toolkit driven through a pipe against the fake server, and once under a pty."""

from __future__ import annotations

import io
import json
import os
import signal
from pathlib import Path

import pytest

from flashchat.config.settings import Settings
from flashchat.repl.plain_repl import PlainRepl, colour_wanted
from flashchat.store.conversation_store import open_store
from flashchat.testing.fake_gemini import FakeGemini, Reply
from repl_driver import ENTER, ReplDriver
from support import plain_mode_on_a_pty, read_until


@pytest.fixture
async def driver(settings: Settings, tmp_path: Path) -> ReplDriver:
    repl = ReplDriver(settings, tmp_path)
    await repl.start()
    return repl


async def test_multi_turn_chat_with_a_level_change(fake: FakeGemini, driver: ReplDriver) -> None:
    fake.enqueue(Reply.text("First reply."), Reply.text("Second reply."))
    driver.type("hello there" + ENTER)
    await driver.wait_for_output("First reply.")
    driver.type("/thinking high" + ENTER)
    await driver.wait_for_output("thinking level: high (from the next request)")
    driver.type("line one\x1b\rline two" + ENTER)  # Esc Enter (Alt+Enter) inserts a newline
    await driver.wait_for_output("Second reply.")
    assert await driver.quit() == 0
    first, second = fake.generate_requests()
    assert (first.thinking_level(), second.thinking_level()) == ("MEDIUM", "HIGH")
    assert second.user_texts() == ["hello there", "line one\nline two"]
    stored = driver.store.load(driver.store.latest_id())
    assert [m.text for m in stored.messages] == ["hello there", "First reply.", "line one\nline two", "Second reply."]
    assert stored.messages[3].thinking_level == "high"


async def test_usage_command_shows_the_fake_usage(fake: FakeGemini, driver: ReplDriver) -> None:
    fake.enqueue(Reply.text("ok", usage={"prompt": 12345, "candidates": 678, "thoughts": 910, "cached": 1000}))
    driver.type("count" + ENTER)
    await driver.wait_for_output("ok")
    driver.type("/usage" + ENTER)
    output = await driver.wait_for_output("context:")
    await driver.quit()
    assert "last turn: prompt 12,345 · thoughts 910 · output 678 · cached 1,000 · total 13,933 tokens" in output
    assert "context: 13,023 / 1,048,576 tokens, 1%" in output


async def test_unknown_slash_command_sends_nothing(fake: FakeGemini, driver: ReplDriver) -> None:
    driver.type("/frobnicate now" + ENTER)
    output = await driver.wait_for_output("unknown command /frobnicate")
    driver.type("/thinking extreme" + ENTER)
    await driver.wait_for_output("thinking level is medium; use /thinking minimal|low|medium|high")
    await driver.quit()
    assert "nothing was sent" in output and fake.generate_requests() == []


async def test_ctrl_c_mid_reply_keeps_the_partial_text_in_the_store(fake: FakeGemini, driver: ReplDriver) -> None:
    fake.enqueue(Reply.text("streaming slowly " * 30, chunk_chars=8, delay_s=0.05), Reply.text("next answer"))
    driver.type("go" + ENTER)
    await driver.wait_for_output("streaming slowly streaming")
    os.kill(os.getpid(), signal.SIGINT)
    await driver.wait_for_output("[stopped: the partial reply is kept]")
    driver.type("still here?" + ENTER)
    await driver.wait_for_output("next answer")
    await driver.quit()
    stored = driver.store.load(driver.store.latest_id())
    reply = stored.messages[1]
    assert reply.stopped and reply.incomplete and reply.text.startswith("streaming slowly streaming")
    assert len(reply.text) < len("streaming slowly " * 30)
    assert [m.role for m in stored.messages] == ["user", "model", "user", "model"]


async def test_errors_are_one_line_and_the_prompt_comes_back(fake: FakeGemini, driver: ReplDriver) -> None:
    fake.enqueue(Reply.rate_limited(retry_delay="0.1s"), Reply.text("after the wait"), Reply.bad_key())
    driver.type("first" + ENTER)
    output = await driver.wait_for_output("after the wait")
    assert "Rate limited or out of quota (429)" in output and "(attempt 2 of 4)" in output
    driver.type("second" + ENTER)
    output = await driver.wait_for_output("error: The API key was rejected")
    driver.type("/help" + ENTER)
    await driver.wait_for_output("/quit")
    assert await driver.quit() == 0


async def test_history_open_new_export_and_retry(fake: FakeGemini, driver: ReplDriver, tmp_path: Path) -> None:
    fake.enqueue(Reply.text("about bananas"), Reply.text("about cherries"), Reply.text("bananas again"))
    driver.type("bananas?" + ENTER)
    await driver.wait_for_output("about bananas")
    first_id = driver.store.latest_id()
    driver.type("/new" + ENTER)
    driver.type("cherries?" + ENTER)
    await driver.wait_for_output("about cherries")
    driver.type("/history" + ENTER)
    await driver.wait_for_output(f"{first_id}     2 msgs  bananas?")
    driver.type(f"/open {first_id[:6]}" + ENTER)
    await driver.wait_for_output("opened")
    driver.type("/retry" + ENTER)
    await driver.wait_for_output("bananas again")
    target = tmp_path / "out.md"
    driver.type(f"/export md {target}" + ENTER)
    await driver.wait_for_output(f"wrote {target}")
    await driver.quit()
    assert "## You\n\nbananas?" in target.read_text() and "bananas again" in target.read_text()
    retried = fake.generate_requests()[-1]
    assert retried.user_texts() == ["bananas?"]


def test_colour_rules() -> None:
    assert colour_wanted(False, {"TERM": "xterm-256color"})
    assert not colour_wanted(True, {"TERM": "xterm-256color"})
    assert not colour_wanted(False, {"TERM": "xterm", "NO_COLOR": ""})
    assert not colour_wanted(False, {"TERM": "dumb"})


def test_completion_offers_commands_with_descriptions(settings: Settings, tmp_path: Path) -> None:
    from prompt_toolkit.completion import CompleteEvent
    from prompt_toolkit.document import Document

    from flashchat.repl.plain_repl import SlashCompleter

    repl = PlainRepl(settings, open_store(), colour=False, stdout=io.StringIO())
    completer = SlashCompleter(repl)
    found = {c.text: c.display_meta_text for c in completer.get_completions(Document("/thi"), CompleteEvent())}
    assert found == {"thinking": "Set or cycle minimal → low → medium → high; applies from the next request."}
    levels = [c.text for c in completer.get_completions(Document("/thinking m"), CompleteEvent())]
    assert levels == ["minimal", "medium"]


def test_under_a_real_terminal(fake: FakeGemini, cli_env: dict) -> None:
    fake.enqueue(Reply.text("**Streamed** over a pty.", chunk_chars=4))
    controller, process = plain_mode_on_a_pty(cli_env)
    try:
        read_until(controller, b"[medium] >")
        os.write(controller, b"hello from a pty\r")
        screen = read_until(controller, b"over a pty.")
        assert b"Streamed" in screen and b"**Streamed**" not in screen  # rendered Markdown
        read_until(controller, b"[medium] >")
        os.write(controller, b"\x04")
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
        os.close(controller)
    assert fake.generate_requests()[0].user_texts() == ["hello from a pty"]


async def test_tool_calls_ask_first_and_remember_always(fake: FakeGemini, settings: Settings, workdir: Path) -> None:
    fake.enqueue(
        Reply.function_calls([("read_file", {"path": "app.py"})]),
        Reply.function_calls([("list_directory", {})]),
        Reply.text("It subtracts."),
    )
    repl = ReplDriver(settings, workdir)
    await repl.start()
    repl.type("/tools on" + ENTER)
    await repl.wait_for_output("/tools on (from the next request)")
    repl.type("what does app.py do?" + ENTER)
    await repl.wait_for_output("tool call: read_file(path='app.py')")
    repl.type("o" + ENTER)
    await repl.wait_for_output("tool read_file: done")
    repl.type("d" + ENTER)  # the second call, list_directory, is denied
    output = await repl.wait_for_output("It subtracts.")
    await repl.quit()
    assert "tool list_directory: denied" in output
    answers = fake.generate_requests()[2].contents[-1]["parts"]
    response = answers[0].get("functionResponse") or answers[0]["function_response"]
    assert response["name"] == "list_directory" and "denied" in response["response"]["error"]


async def test_at_path_attaches_the_file_with_its_token_count(
    fake: FakeGemini, settings: Settings, workdir: Path
) -> None:
    repl = ReplDriver(settings, workdir)
    await repl.start()
    repl.type("/preset review look at @app.py" + ENTER)
    output = await repl.wait_for_output("Echo:")
    await repl.quit()
    count_request = next(r for r in fake.requests if r.path.endswith(":countTokens"))
    assert "def add" in json.dumps(count_request.body)
    assert "[attached app.py: " in output and " tokens]" in output
    sent = fake.generate_requests()[0].user_texts()[0]
    assert sent.startswith("Review the code below") and sent.endswith(
        "```python\ndef add(a, b):\n    return a - b\n```"
    )
    assert "look at @app.py" in sent


async def test_search_toggle_sends_the_tool_and_prints_sources(fake: FakeGemini, driver: ReplDriver) -> None:
    from support import GROUNDING

    content = {"role": "model", "parts": [{"text": "Cloudy."}]}
    fake.enqueue(
        Reply.events([{"candidates": [{"content": content, "finishReason": "STOP", "groundingMetadata": GROUNDING}]}])
    )
    driver.type("/search on" + ENTER)
    driver.type("weather?" + ENTER)
    output = await driver.wait_for_output("Searched for")
    await driver.quit()
    assert "1. [weather.com](https://weather.com/tokyo)" in output
    assert fake.generate_requests()[0].body["tools"] == [{"googleSearch": {}}]


def test_at_path_completion(settings: Settings, workdir: Path) -> None:
    from prompt_toolkit.completion import CompleteEvent
    from prompt_toolkit.document import Document

    from flashchat.repl.plain_repl import SlashCompleter

    repl = PlainRepl(settings, open_store(), colour=False, stdout=io.StringIO())
    found = [c.text for c in SlashCompleter(repl).get_completions(Document("review @ap"), CompleteEvent())]
    assert found == ["app.py"]


async def test_a_turn_through_an_openai_compatible_endpoint(
    fake_openai, openai_settings: Settings, tmp_path: Path
) -> None:
    from flashchat.testing.fake_openai import Reply as OpenAIReply

    fake_openai.enqueue(OpenAIReply.text("Hello from a gateway."), OpenAIReply.text("Second turn."))
    repl = ReplDriver(openai_settings, tmp_path)
    await repl.start()
    repl.type("hi" + ENTER)
    await repl.wait_for_output("Hello from a gateway.")
    repl.type("/thinking low" + ENTER)
    repl.type("again" + ENTER)
    await repl.wait_for_output("Second turn.")
    await repl.quit()
    first, second = fake_openai.completion_requests()
    assert (first.reasoning_effort, second.reasoning_effort) == ("medium", "low")
    assert second.roles() == ["user", "assistant", "user"]
    stored = repl.store.load(repl.store.latest_id())
    assert [m.provider for m in stored.messages if m.role == "model"] == ["openai", "openai"]


async def test_rename_and_open_say_it_in_words(fake: FakeGemini, driver: ReplDriver) -> None:
    driver.type("/rename Early" + ENTER)  # nothing stored yet: the title waits for the first save
    await driver.wait_for_output("renamed to Early")
    driver.type("first question" + ENTER)
    await driver.wait_for_output("Echo: first question")
    conversation_id = driver.store.latest_id()
    assert driver.store.summary(conversation_id).title == "Early"
    driver.type("/rename Trip to Kyoto" + ENTER)
    await driver.wait_for_output("renamed to Trip to Kyoto")
    assert driver.store.summary(conversation_id).title == "Trip to Kyoto"
    driver.type("/history" + ENTER)
    await driver.wait_for_output(f"{conversation_id}     2 msgs  Trip to Kyoto")
    driver.type("/new" + ENTER)
    driver.type(f"/open {conversation_id}" + ENTER)
    await driver.wait_for_output(f"opened {conversation_id}: Trip to Kyoto (2 messages)")
    assert await driver.quit() == 0
