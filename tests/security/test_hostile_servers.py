"""A hostile server (testing/hostile.py) against the real clients, in every front end: what reaches the
terminal holds no escape sequence, bidi or invisible control from it, each message is one bounded line, and
odd outcomes (a redirect loop, a 429 that asks for an hour, an empty stream) say what happened."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from flashchat.cli.main import main
from flashchat.config.settings import Settings
from flashchat.core.errors import ErrorKind
from flashchat.core.events import Failed
from flashchat.core.session import RetryPolicy
from flashchat.store.conversation_store import open_store
from flashchat.testing import hostile
from flashchat.testing._scripted_server import RawReply
from flashchat.testing.fake_gemini import FakeGemini, Reply
from flashchat.testing.fake_openai import FakeOpenAI
from flashchat.tui.app import FlashchatApp
from flashchat.tui.screens.tool_approval_screen import ToolApprovalScreen
from repl_driver import ENTER, ReplDriver
from support import FAST_RETRIES, collect, make_session, plain_mode_on_a_pty, read_until, run_in_terminal
from tui.pilot_helpers import send, wait_until

# Everything from hostile.ESCAPES and hostile.BIDI a terminal would act on, as it would arrive raw.
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200b\u2060\ufeff]")
# The longest line flashchat writes about a server string (stderr_line's bound, plus its own words).
LONGEST_LINE = 2_100


def one_shot(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["-p", "hi", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_safe_bounded_lines(stderr: str) -> None:
    assert stderr.endswith("\n") and not RAW.search(stderr.replace("\n", ""))
    assert max(len(line) for line in stderr.splitlines()) < LONGEST_LINE


HOSTILE_REPLIES = {
    "escapes in an error message": (lambda: hostile.gemini_error(400), 1),
    "an HTML error page": (lambda: hostile.html_error(400), 1),
    "a 5 MB body that is not JSON": (lambda: hostile.huge_body(400, megabytes=5), 1),
    "a 3 MB error message": (lambda: hostile.gemini_huge_message(400, megabytes=3), 1),
    "a hostile finish reason and finishMessage": (hostile.gemini_hostile_finish, 0),
    "hostile grounding titles, URIs and queries": (hostile.gemini_grounded_reply, 0),
}


# The SDK warns about the unknown finish reason, quoting it raw: in-process, pytest would print it.
@pytest.mark.filterwarnings("ignore:.*is not a valid FinishReason:UserWarning")
@pytest.mark.parametrize("name", HOSTILE_REPLIES)
def test_one_shot_to_a_pipe_writes_only_safe_bounded_lines_on_stderr(
    name: str, pointed_at: FakeGemini, capsys: pytest.CaptureFixture[str]
) -> None:
    make, expected_code = HOSTILE_REPLIES[name]
    pointed_at.enqueue(make())
    code, _, stderr = one_shot([], capsys)
    assert code == expected_code
    assert_safe_bounded_lines(stderr)
    assert "Traceback" not in stderr and len(stderr) < 3 * LONGEST_LINE
    assert "␛" in stderr or "HTML page" in stderr  # shown as symbols (or summarised), not acted on


def test_sources_and_a_hostile_finish_on_a_real_terminal(fake: FakeGemini, cli_env: dict) -> None:
    """On a tty the reply and its sources are rendered Markdown: the bytes the pty receives hold none of the
    server's escapes (rich's own styling is ESC[...m and OSC 8 links, which are checked separately)."""
    fake.enqueue(hostile.gemini_grounded_reply())
    screen = run_in_terminal(["-p", "hi"], cli_env)
    assert "Grounded answer." in screen and "Sources:" in screen
    for sequence in ("\x1b[2J", "\x1b]0;", "\x1b]52", "\x1b[6n", "\u202e", "\u2066", "\u200b", "\x9b", "\x9d"):
        assert sequence not in screen
    links = re.findall(r"\x1b]8;[^;]*;([^\x1b\x07]*)", screen)
    assert all(link.startswith("https://evil.example/") or link == "" for link in links)
    assert "javascript:" not in "".join(links)


def test_a_ten_megabyte_tool_argument_is_never_echoed_whole(
    pointed_at: FakeGemini, workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pointed_at.enqueue(hostile.gemini_tool_call(), Reply.text("done"))
    code, stdout, stderr = one_shot(["--allow-tools"], capsys)
    assert (code, stdout) == (0, "done\n")
    assert_safe_bounded_lines(stderr)
    assert len(stderr) < 2 * LONGEST_LINE and "tool: read_file(path='hostile" in stderr


# The SDK warns about the unknown finish reason, quoting it raw: in-process, pytest would print it.
@pytest.mark.filterwarnings("ignore:.*is not a valid FinishReason:UserWarning")
async def test_plain_mode_model_list_and_errors_are_safe(fake: FakeGemini, settings: Settings, tmp_path: Path) -> None:
    fake.models = hostile.gemini_models()
    fake.enqueue(hostile.gemini_error(400), hostile.gemini_hostile_finish(), hostile.gemini_tool_call())
    driver = ReplDriver(settings, tmp_path)
    await driver.start()
    driver.type("/model" + ENTER)
    await driver.wait_for_output("long-mmm")
    driver.type("one" + ENTER)
    await driver.wait_for_output("error: The API rejected the request")
    driver.type("two" + ENTER)
    await driver.wait_for_output("The model stopped early")
    output = driver.stdout.getvalue()
    assert await driver.quit() == 0
    assert not RAW.search(output.replace("\n", ""))
    assert max(len(line) for line in output.splitlines()) < LONGEST_LINE


async def test_the_tui_approval_screen_shows_a_ten_megabyte_argument_as_one_short_line(
    fake: FakeGemini, settings: Settings, workdir: Path, isolated_home: Path
) -> None:
    fake.enqueue(hostile.gemini_tool_call(), Reply.text("done"))
    app = FlashchatApp(
        Settings(api_key=settings.api_key, base_url=settings.base_url, local_tools=True),
        config_path=isolated_home / "config.toml",
        retry_policy=FAST_RETRIES,
        warm_up=False,
    )
    async with app.run_test(size=(100, 30)) as pilot:
        await send(pilot, "read it")
        await wait_until(pilot, lambda: isinstance(app.screen, ToolApprovalScreen))
        shown = str(app.screen.query_one(".approval-call").render())
        assert shown.startswith("read_file(path='hostile\\x1b[2J\\x1b[H\\x1b]0;owned\\x07") and len(shown) < 600
        assert shown.endswith("… (10,000,076 more characters))")
        await pilot.press("escape")


@pytest.mark.parametrize("provider", ["gemini", "openai"])
@pytest.mark.parametrize("name", hostile.malformed_bodies())
async def test_a_body_of_the_wrong_shape_is_an_error_never_a_crash(
    provider: str, name: str, fake: FakeGemini, fake_openai: FakeOpenAI
) -> None:
    server = fake if provider == "gemini" else fake_openai
    server.enqueue(*[hostile.malformed_bodies()[name]] * 3)  # type: ignore[arg-type]
    settings = Settings(provider=provider, base_url=server.url, api_key=server.api_key)
    failure = (await collect(make_session(settings).send("hi")))[-1]
    assert isinstance(failure, Failed) and failure.message is None
    assert len(failure.error.message) < 600 and "Traceback" not in failure.error.message


# -- misleading outcomes


@pytest.mark.parametrize("provider", ["gemini", "openai"])
async def test_a_redirect_loop_says_so_and_keeps_nothing(
    provider: str, fake: FakeGemini, fake_openai: FakeOpenAI
) -> None:
    server = fake if provider == "gemini" else fake_openai
    server.enqueue(hostile.redirect_loop())  # type: ignore[arg-type]
    store = open_store()
    session = make_session(Settings(provider=provider, base_url=server.url, api_key=server.api_key), store=store)
    failure = (await collect(session.send("hi")))[-1]
    assert isinstance(failure, Failed) and failure.error.kind is ErrorKind.BAD_RESPONSE
    host = server.url if provider == "gemini" else server.url.removeprefix("http://").removesuffix("/v1")
    assert failure.error.message == (
        f"{host} answered with a redirect (302 to /__redirect_loop) instead of the API: flashchat does not "
        "follow redirects; check base_url (a redirect loop or a login page of a proxy answers like this)."
    )
    assert failure.message is None and len(server.requests) == 1  # asked once, not followed, not retried
    assert [m.role for m in store.load(session.conversation.id).messages] == ["user"]
    await session.aclose()


async def test_an_empty_stream_is_not_saved_as_an_empty_incomplete_reply(fake: FakeGemini, settings: Settings) -> None:
    fake.enqueue(Reply.events([]))
    store = open_store()
    session = make_session(settings, store=store)
    failure = (await collect(session.send("hi")))[-1]
    assert isinstance(failure, Failed) and failure.error.kind is ErrorKind.TRUNCATED
    assert "without sending any of the reply" in failure.error.message and failure.message is None
    assert [m.role for m in store.load(session.conversation.id).messages] == ["user"]


@pytest.mark.parametrize("provider", ["gemini", "openai"])
async def test_a_429_that_asks_for_an_hour_says_how_long_and_does_not_retry(
    provider: str, fake: FakeGemini, fake_openai: FakeOpenAI
) -> None:
    if provider == "gemini":
        fake.enqueue(hostile.gemini_long_rate_limit(3600))
        server: FakeGemini | FakeOpenAI = fake
    else:
        fake_openai.enqueue(hostile.openai_error(429, message="Slow down.", retry_after="3600"))
        server = fake_openai
    settings = Settings(provider=provider, base_url=server.url, api_key=server.api_key)
    session = make_session(settings, retry_policy=RetryPolicy())
    failure = (await collect(session.send("hi")))[-1]
    assert isinstance(failure, Failed) and failure.error.kind is ErrorKind.RATE_LIMIT
    assert "The server asks to wait 60 min before the next request (until about " in failure.error.message
    assert failure.error.message.endswith("flashchat waits at most 60 s by itself.")
    assert len(server.requests) == 1


def test_a_gateway_retry_after_header_on_a_gemini_429_is_honoured(
    pointed_at: FakeGemini, capsys: pytest.CaptureFixture[str]
) -> None:
    pointed_at.enqueue(RawReply(429, b'{"error": {"code": 429, "message": "busy"}}', "application/json",
                                {"Retry-After": "7200"}))  # fmt: skip
    code, _, stderr = one_shot([], capsys)
    assert code == 1
    assert stderr.startswith(
        "flashchat: error: Rate limited or out of quota (429): busy. The server asks to wait 2 h 00 min"
    )


def test_plain_mode_on_a_real_terminal_gets_no_raw_server_string(fake: FakeGemini, cli_env: dict) -> None:
    """The SDK warns about an unknown finish reason quoting it raw; in plain mode that went to the terminal."""
    fake.enqueue(hostile.gemini_hostile_finish())
    controller, process = plain_mode_on_a_pty(cli_env)
    try:
        read_until(controller, b"[medium] >")
        os.write(controller, b"hi\r")
        screen = read_until(controller, b"The model stopped early")
        screen += read_until(controller, b"[medium] >")
        os.write(controller, b"\x04")
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
        os.close(controller)
    # (prompt-toolkit asks for the cursor position with ESC[6n itself: that one is not checked here.)
    for sequence in (b"\x1b[2J", b"\x1b]0;", b"\x1b]52", "\u202e".encode(), b"\xc2\x9b", b"\xc2\x9d"):
        assert sequence not in screen
    assert b"is not a valid FinishReason" not in screen


@pytest.mark.parametrize(
    "models",
    [[{"name": 5, "supportedGenerationMethods": "generateContent"}], ["not an object"], [{"inputTokenLimit": "x"}]],
)
async def test_a_models_list_of_the_wrong_shape_is_an_error(models: list, fake: FakeGemini, settings: Settings) -> None:
    from flashchat.core.errors import ChatError

    fake.models = models
    session = make_session(settings)
    with pytest.raises(ChatError) as caught:
        await session.provider.list_models(settings)
    assert caught.value.kind is ErrorKind.BAD_RESPONSE
    await session.aclose()


async def test_the_tui_opens_only_http_links_whoever_asks(
    settings: Settings, isolated_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reply segments never open links and sources link only http(s); behind both, the app itself refuses any
    other scheme (a `file:` or `vscode://` link handed to the desktop could start a program)."""
    app = FlashchatApp(settings, config_path=isolated_home / "config.toml", retry_policy=FAST_RETRIES, warm_up=False)
    async with app.run_test(size=(100, 30)) as pilot:
        opened: list[str] = []
        monkeypatch.setattr(app._driver, "open_url", lambda url, new_tab=True: opened.append(url))
        for href in ("file:///etc/passwd", "vscode://x/y\x1b[2J", "https://example.com/"):
            app.open_url(href)
        await pilot.pause()
        assert opened == ["https://example.com/"]
        refused = [note.message for note in app._notifications if note.message.startswith("Not opened")]
        assert refused == [
            "Not opened: file:///etc/passwd (only http and https links are).",
            "Not opened: vscode://x/y␛[2J (only http and https links are).",
        ]


@pytest.mark.parametrize("format_name", ["md", "json"])
async def test_exports_of_a_hostile_conversation_hold_no_raw_control(
    format_name: str, fake: FakeGemini, settings: Settings, tmp_path: Path
) -> None:
    """The bytes of the export file: `cat`ting it must not act on the terminal (the JSON still decodes to the
    exact strings)."""
    from flashchat.core.exports import write_export

    fake.enqueue(hostile.gemini_grounded_reply(f"reply {hostile.HOSTILE}"))
    store = open_store()
    session = make_session(settings, store=store)
    await collect(session.send(f"prompt {hostile.HOSTILE}"))
    written = write_export(session.conversation, store, format_name, tmp_path / f"export.{format_name}")
    data = written.read_bytes()
    for raw in (
        b"\x1b",
        b"\x07",
        b"\r",
        b"\xc2\x9b",
        b"\xc2\x9d",
        "\u202e".encode(),
        "\u200b".encode(),
        b"\xef\xbb\xbf",
    ):
        assert raw not in data
    if format_name == "json":
        assert json.loads(data)["messages"][0]["text"] == f"prompt {hostile.HOSTILE}"
    await session.aclose()
