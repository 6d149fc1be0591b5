"""Bad input of every kind is one line on stderr and exit 2, never a traceback, a hang or a request: model
names, base URLs, numbers, the config file itself (nested, a FIFO, a device), piped stdin for --plain, and a bad
model typed in plain mode (which must keep the session going)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from flashchat.cli.main import main
from flashchat.config.settings import Settings
from flashchat.testing.fake_gemini import FakeGemini, Reply
from repl_driver import ENTER, ReplDriver
from support import run_cli


def run_main(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """flashchat's entry point in this process: its exit code and what it wrote to stderr."""
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.err


def assert_one_usage_line(code: int, stderr: str, *expected: str) -> None:
    assert code == 2, stderr
    assert stderr.startswith("flashchat: ") and stderr.count("\n") == 1 and "Traceback" not in stderr
    for text in expected:
        assert text in stderr


@pytest.mark.parametrize("model", ["", "a\tb", "a?b", "a/../b", "../x", "a\x00b", "a b", "m#x", "a\nb", "x" * 300])
def test_a_bad_model_name_is_refused_before_anything_is_sent(
    model: str, pointed_at: FakeGemini, capsys: pytest.CaptureFixture[str]
) -> None:
    code, stderr = run_main(["-p", "hi", "--model", model], capsys)
    assert_one_usage_line(code, stderr, "--model: model = ", "is not allowed")
    assert pointed_at.requests == []


@pytest.mark.parametrize(
    "model", ["gemini-3.5-flash", "models/gemini-x", "tunedModels/t-1", "org/Llama-3-8B", "qwen2.5:7b", "a@1+b"]
)
def test_real_model_names_are_accepted(model: str) -> None:
    assert Settings().with_overrides("--option", model=model).model == model


def test_a_good_model_is_sent(pointed_at: FakeGemini, capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = run_main(["-p", "hi", "--model", "gemini-2.5-flash"], capsys)
    assert code == 0 and pointed_at.generate_requests()[0].model == "gemini-2.5-flash"


def test_a_nul_in_the_config_model_is_one_line(config_file: Path, pointed_at: FakeGemini, capsys) -> None:
    config_file.write_text('model = "gemini\\u0000x"\n')
    code, stderr = run_main(["-p", "hi"], capsys)
    assert_one_usage_line(code, stderr, f"{config_file}: line 1: model = 'gemini\\x00x' is not allowed")


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://127.0.0.1:99999", "the port must be a number from 1 to 65535"),
        ("http://127.0.0.1:0/v1", "the port must be a number from 1 to 65535"),
        ("ftp://127.0.0.1/", "use an http:// or https:// address"),
        ("file:///etc/passwd", "use an http:// or https:// address"),
        ("localhost:8080", "use an http:// or https:// address"),
        ("http://", "it names no host"),
        ("http://[::1", "it is not a URL"),
        ("http://host/\x1b[2J", "spaces or control characters"),
    ],
)
def test_a_bad_base_url_is_refused_up_front_not_retried(
    url: str, problem: str, fake: FakeGemini, config_file: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setenv("GEMINI_API_KEY", fake.api_key)
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", url)
    code, stderr = run_main(["-p", "hi"], capsys)
    assert_one_usage_line(code, stderr, "flashchat: GOOGLE_GEMINI_BASE_URL: base_url = ", problem)
    assert "\x1b" not in stderr and "Retrying" not in stderr
    monkeypatch.delenv("GOOGLE_GEMINI_BASE_URL")
    config_file.write_text(f"base_url = {json.dumps(url)}\n")  # a TOML basic string, escapes as JSON's
    code, stderr = run_main(["-p", "hi"], capsys)
    assert_one_usage_line(code, stderr, f"{config_file}: line 1: base_url = ", problem)


@pytest.mark.parametrize(
    "text",
    [
        "x = " + "[" * 5000 + "]" * 5000,
        "x = " + "{a=" * 3000 + "1" + "}" * 3000,
        "[" + "a." * 20000 + "b]",
    ],
)
def test_deeply_nested_toml_is_one_line(text: str, config_file: Path, pointed_at: FakeGemini, capsys) -> None:
    config_file.write_text(text + "\n")
    code, stderr = run_main(["-p", "hi"], capsys)
    assert_one_usage_line(code, stderr, str(config_file))


@pytest.mark.parametrize(
    "line",
    ["temperature = nan", "temperature = inf", "top_p = inf", "price_input_per_million = nan", "temperature = +nan"],
)
def test_nan_and_infinity_are_refused_never_sent(line: str, config_file: Path, pointed_at: FakeGemini, capsys) -> None:
    config_file.write_text(line + "\n")
    code, stderr = run_main(["-p", "hi"], capsys)
    assert_one_usage_line(code, stderr, f"{config_file}: line 1: ", "is not allowed; use a finite number")
    assert pointed_at.requests == []


def test_config_set_refuses_nan_too(config_file: Path, capsys) -> None:
    code, stderr = run_main(["config", "set", "temperature", "nan"], capsys)
    assert_one_usage_line(code, stderr, "is not allowed")
    assert not config_file.exists()


def test_a_config_file_that_is_a_fifo_or_a_device_is_refused_at_once(config_file: Path, cli_env: dict) -> None:
    """A FIFO would block the open and /dev/zero would be read until memory ran out: both are one line."""
    os.mkfifo(config_file)
    result = run_cli(["-p", "hi"], cli_env, timeout=30)
    assert (result.returncode, result.stdout) == (2, "")
    refused = f"flashchat: cannot read the config file: {config_file} is not a regular file"
    assert result.stderr == f"{refused} (a named pipe)\n"
    config_file.unlink()
    config_file.symlink_to("/dev/zero")
    result = run_cli(["-p", "hi"], cli_env, timeout=30)
    assert result.returncode == 2
    assert result.stderr == f"{refused} (a device)\n"


def test_a_huge_config_file_is_refused(config_file: Path, pointed_at: FakeGemini, capsys) -> None:
    config_file.write_text("# padding\n" * 200_000)
    code, stderr = run_main(["-p", "hi"], capsys)
    assert_one_usage_line(code, stderr, "more than the 1,000,000 allowed")


def test_a_symlinked_regular_config_file_still_works(config_file: Path, pointed_at: FakeGemini, capsys) -> None:
    real = config_file.parent / "dotfiles.toml"
    real.write_text('thinking_level = "high"\n')
    config_file.symlink_to(real)
    code, _ = run_main(["-p", "hi"], capsys)
    assert code == 0 and pointed_at.generate_requests()[0].thinking_level() == "HIGH"


def test_plain_mode_with_a_piped_stdin_refuses_and_points_to_p(cli_env: dict, fake: FakeGemini) -> None:
    """`echo hi | flashchat --plain` used to send nothing and exit 0. It says what to use instead."""
    result = run_cli(["--plain"], cli_env, stdin=b"hi\n")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        "flashchat: --plain is a chat for a terminal and stdin is not one: to send piped text, use "
        "`... | flashchat -p` (or `flashchat -p TEXT`).\n"
    )
    assert fake.requests == []


async def test_a_bad_model_in_plain_mode_is_one_line_and_the_chat_goes_on(
    fake: FakeGemini, settings: Settings, tmp_path: Path
) -> None:
    driver = ReplDriver(settings, tmp_path)
    await driver.start()
    driver.type("/model a?b" + ENTER)
    await driver.wait_for_output("is not allowed")
    driver.type("/model a/../b" + ENTER)
    driver.type("still here" + ENTER)
    output = await driver.wait_for_output("Echo: still here")
    assert await driver.quit() == 0
    errors = [line for line in output.splitlines() if line.startswith("error: ")]
    assert len(errors) == 2 and all("model = " in line for line in errors)
    assert [request.model for request in fake.generate_requests()] == ["gemini-3.5-flash"]


def test_a_model_name_from_the_server_list_is_never_sent_unchecked(fake: FakeGemini, settings: Settings) -> None:
    """The session checks a model chosen from a (hostile) list like one typed: a ConfigError, not a request."""
    from flashchat.config.settings import ConfigError
    from support import make_session

    session = make_session(settings)
    with pytest.raises(ConfigError, match="is not allowed"):
        session.update_settings("picker", model="evil\x1b[2J?x")
    fake.enqueue(Reply.text("fine"))
    assert session.settings.model == "gemini-3.5-flash"


def test_an_imported_conversation_with_a_bad_model_continues_with_the_current_one(
    fake: FakeGemini, settings: Settings
) -> None:
    """The stored model travels with a conversation; one from an imported file that is no model name stays
    behind instead of failing the open (a ConfigError there ended the TUI)."""
    from flashchat.core.conversation import Conversation, Message
    from support import make_session

    session = make_session(settings)
    session.open(Conversation(messages=[Message(role="user", text="hi")], model="evil\x1b[2J?x"))
    assert session.settings.model == "gemini-3.5-flash"
    session.open(Conversation(messages=[Message(role="user", text="hi")], model="gemini-2.5-flash"))
    assert session.settings.model == "gemini-2.5-flash"
