"""Pilot tests of endpoints, tools, `@path` files and presets in the TUI, against the fake servers."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from flashchat.config.settings import Settings, load_settings
from flashchat.testing.fake_gemini import FakeGemini, Reply
from flashchat.testing.fake_openai import FakeOpenAI
from flashchat.testing.fake_openai import Reply as OpenAIReply
from flashchat.tui.screens.picker_screen import PickerScreen
from flashchat.tui.screens.setup_screen import SetupScreen
from flashchat.tui.screens.tool_approval_screen import ToolApprovalScreen
from flashchat.tui.widgets.attachment_chip import AttachmentChip
from flashchat.tui.widgets.error_notice import ErrorNotice
from flashchat.tui.widgets.path_suggestions import PathSuggestions
from flashchat.tui.widgets.reply_view import ReplyView
from flashchat.tui.widgets.sources_block import SourcesBlock
from flashchat.tui.widgets.tool_call_notice import ToolCallNotice
from flashchat.tui.widgets.user_message import UserMessage

from .pilot_helpers import send, wait_for_reply, wait_until

GROUNDING = {
    "webSearchQueries": ["weather in Tokyo today"],
    "groundingChunks": [
        {"web": {"title": "weather.com", "uri": "https://weather.com/tokyo"}},
        {"web": {"title": "jma.go.jp", "uri": "https://www.jma.go.jp/tokyo"}},
    ],
}


def status_text(app, name: str) -> str:
    return str(app.query_one(f"#status-{name}").render())


# -- endpoints


async def test_a_turn_through_an_openai_compatible_endpoint(
    fake_openai: FakeOpenAI, openai_settings: Settings, make_app
) -> None:
    fake_openai.enqueue(OpenAIReply.text("Hello from a gateway."))
    app = make_app(settings=openai_settings)
    async with app.run_test() as pilot:
        assert status_text(app, "endpoint") == "openai"
        await send(pilot, "hi")
        await wait_for_reply(pilot)
        assert app.query_one(ReplyView).text == "Hello from a gateway."
    (request,) = fake_openai.completion_requests()
    assert request.user_texts() == ["hi"] and request.reasoning_effort == "medium"


async def test_no_setup_screen_for_an_endpoint_that_needs_no_key(fake_openai: FakeOpenAI, make_app) -> None:
    app = make_app(settings=Settings(provider="openai", base_url=fake_openai.url, api_key=""))
    async with app.run_test() as pilot:
        await pilot.pause()
        assert not isinstance(app.screen, SetupScreen)


async def test_switching_endpoint_sends_the_next_request_to_the_other_server(
    fake: FakeGemini, fake_openai: FakeOpenAI, config_path: Path, make_app
) -> None:
    config_path.parent.mkdir(parents=True)
    config_path.write_text(
        f'base_url = "{fake.url}"\napi_key = "{fake.api_key}"\n\n'
        f'[endpoints.local]\nprovider = "openai"\nbase_url = "{fake_openai.url}"\napi_key = "{fake_openai.api_key}"\n'
        'model = "local-model"\n'
    )
    fake_openai.enqueue(OpenAIReply.text("From the local server."))
    app = make_app(settings=load_settings(config_path, environ={}))
    async with app.run_test() as pilot:
        await send(pilot, "first")
        await wait_for_reply(pilot)
        await pilot.press("ctrl+t")  # medium -> high, which must survive the switch
        await pilot.press("f5")
        await pilot.pause()
        assert isinstance(app.screen, PickerScreen)
        await pilot.press("2")  # 1 is the default, 2 the [endpoints.local] table
        assert status_text(app, "endpoint") == "local · openai"
        assert status_text(app, "model") == "local-model"
        await send(pilot, "second")
        await wait_for_reply(pilot)
        assert app.query(ReplyView).last().text == "From the local server."
    assert len(fake.generate_requests()) == 1
    (request,) = fake_openai.completion_requests()
    assert request.model == "local-model" and request.reasoning_effort == "high"
    assert request.user_texts() == ["first", "second"]


# -- tools


async def test_local_tool_call_asks_first_and_shows_the_outcome(fake: FakeGemini, make_app, workdir: Path) -> None:
    fake.enqueue(
        Reply.function_calls([("read_file", {"path": "app.py"})]),
        Reply.function_calls([("list_directory", {})]),
        Reply.text("It subtracts."),
    )
    app = make_app()
    async with app.run_test() as pilot:
        await pilot.press("f7")
        await pilot.pause()
        await pilot.press("4")  # local tools on
        assert status_text(app, "tools") == "files"
        await send(pilot, "what does app.py do?")
        await wait_until(pilot, lambda: isinstance(app.screen, ToolApprovalScreen))
        assert "read_file(path='app.py')" in str(app.screen.query_one(".approval-call").render())
        await pilot.press("o")
        await wait_until(pilot, lambda: isinstance(app.screen, ToolApprovalScreen))
        await pilot.press("d")  # the second call, list_directory, is denied
        await wait_for_reply(pilot)
        notices = [str(notice.render()) for notice in app.query(ToolCallNotice)]
        assert notices == ["⚙ read_file(path='app.py') · done", "⚙ list_directory() · denied"]
        assert app.query(ReplyView).last().text == "It subtracts."
    answer = fake.generate_requests()[2].contents[-1]["parts"][0]
    response = answer.get("functionResponse") or answer["function_response"]
    assert response["name"] == "list_directory" and "denied" in response["response"]["error"]


async def test_stopping_during_approval_closes_the_dialog(fake: FakeGemini, make_app, workdir: Path) -> None:
    fake.enqueue(Reply.function_calls([("read_file", {"path": "app.py"})]))
    app = make_app(settings=dataclasses.replace(make_app().settings, local_tools=True))
    async with app.run_test() as pilot:
        await send(pilot, "read it")
        await wait_until(pilot, lambda: isinstance(app.screen, ToolApprovalScreen))
        app.action_stop()
        await wait_for_reply(pilot)
        assert not isinstance(app.screen, ToolApprovalScreen)
        assert "stopped before it ran" in str(app.query_one(ToolCallNotice).render())


async def test_search_toggle_sends_the_tool_and_shows_sources(fake: FakeGemini, make_app) -> None:
    content = {"role": "model", "parts": [{"text": "Cloudy."}]}
    fake.enqueue(
        Reply.events([{"candidates": [{"content": content, "finishReason": "STOP", "groundingMetadata": GROUNDING}]}])
    )
    app = make_app()
    async with app.run_test() as pilot:
        await app.run_action("toggle_tool('google_search')")
        assert status_text(app, "tools") == "search"
        await send(pilot, "weather?")
        await wait_for_reply(pilot)
        sources = app.query_one(SourcesBlock)
        assert "[weather.com](https://weather.com/tokyo)" in sources.source
        assert "weather in Tokyo today" in sources.source
    assert fake.generate_requests()[0].body["tools"] == [{"googleSearch": {}}]


# -- files


async def test_at_path_completes_attaches_and_shows_a_chip(fake: FakeGemini, make_app, workdir: Path) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        await pilot.press(*"look at @ap")
        suggestions = app.query_one(PathSuggestions)
        await wait_until(pilot, lambda: suggestions.display)
        assert suggestions.paths == ["app.py"]
        await pilot.press("tab")
        assert app.composer.text == "look at @app.py "
        assert not suggestions.display
        await pilot.press("enter")
        await wait_for_reply(pilot)
        (chip,) = app.query(AttachmentChip)
        assert chip.path == "app.py"
        assert str(chip.render()).endswith(" tokens") and "~" not in str(chip.render())
    count_request = next(r for r in fake.requests if r.path.endswith(":countTokens"))
    assert "def add" in json.dumps(count_request.body)
    sent = fake.generate_requests()[0].user_texts()[0]
    assert sent.startswith("look at @app.py") and sent.endswith("```python\ndef add(a, b):\n    return a - b\n```")


async def test_escape_closes_the_path_popup_and_keeps_the_text(make_app, workdir: Path) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        await pilot.press(*"@a")
        await wait_until(pilot, lambda: app.query_one(PathSuggestions).display)
        await pilot.press("escape")
        assert not app.query_one(PathSuggestions).display
        assert app.composer.text == "@a"


async def test_a_binary_file_is_refused_inline_and_nothing_is_sent(fake: FakeGemini, make_app, workdir: Path) -> None:
    (workdir / "blob.bin").write_bytes(b"\x00\x01\x02")
    app = make_app()
    async with app.run_test() as pilot:
        await send(pilot, "see @blob.bin")
        await pilot.pause()
        assert "blob.bin: not a type flashchat can attach" in str(app.query_one(ErrorNotice).render())
        assert app.composer.text == "see @blob.bin"
        assert not app.query(ReplyView)
    assert fake.generate_requests() == []


async def test_attachments_over_the_warning_size_ask_before_anything_is_sent(
    fake: FakeGemini, make_app, workdir: Path
) -> None:
    app = make_app(settings=dataclasses.replace(make_app().settings, attach_warn_tokens=1))
    async with app.run_test() as pilot:
        await send(pilot, "check @app.py")
        await wait_until(pilot, lambda: isinstance(app.screen, PickerScreen))
        assert "attach_warn_tokens is 1" in app.screen.title_text
        assert fake.generate_requests() == []  # the guard comes before the request
        await pilot.press("enter")  # "Send them anyway"
        await wait_for_reply(pilot)
        assert len(fake.generate_requests()) == 1
        assert app.query_one(AttachmentChip).has_class("-over-limit")


async def test_declining_the_size_warning_sends_nothing_and_gives_the_prompt_back(
    fake: FakeGemini, make_app, workdir: Path
) -> None:
    app = make_app(settings=dataclasses.replace(make_app().settings, attach_warn_tokens=1))
    async with app.run_test() as pilot:
        await send(pilot, "check @app.py")
        await wait_until(pilot, lambda: isinstance(app.screen, PickerScreen))
        await pilot.press("escape")
        await pilot.pause()
        assert fake.generate_requests() == []
        assert app.composer.text == "check @app.py"
        assert not app.query(UserMessage)


# -- presets


async def test_preset_picker_puts_the_preset_before_the_typed_text(make_app) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        app.composer.load_text("my question")
        await pilot.press("f6")
        await pilot.pause()
        names = list(app.settings.presets)
        await pilot.press(str(names.index("review") + 1))
        assert app.composer.text == app.settings.presets["review"] + "\n\nmy question"


async def test_editing_a_prompt_that_attached_a_file_brings_back_the_mention(
    fake: FakeGemini, make_app, workdir: Path
) -> None:
    app = make_app()
    async with app.run_test() as pilot:
        await send(pilot, "review @app.py")
        await wait_for_reply(pilot)
        await pilot.press("ctrl+l")
        assert app.composer.text == "review @app.py"
        assert not app.query(AttachmentChip)
        await pilot.pause()
        assert not app.query_one(PathSuggestions).display  # Enter sends; it does not pick a path
        await pilot.press("enter")
        await wait_for_reply(pilot)
    first, second = fake.generate_requests()
    assert second.user_texts() == first.user_texts()  # the file is attached again, once
