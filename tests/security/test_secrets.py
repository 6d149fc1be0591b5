"""The API key: its characters are checked before it is used (one line saying what is wrong and how to set
one, exit 2, never the key itself), and a key the server echoes back is masked everywhere it is shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from flashchat.cli.main import main
from flashchat.config.settings import Settings
from flashchat.core.errors import ErrorKind
from flashchat.core.events import Failed
from flashchat.core.session import RetryPolicy
from flashchat.testing import hostile
from flashchat.testing._scripted_server import RawReply
from flashchat.testing.fake_gemini import FakeGemini
from flashchat.testing.fake_openai import FakeOpenAI
from flashchat.tui.app import FlashchatApp
from flashchat.tui.widgets.error_notice import ErrorNotice
from support import FAST_RETRIES, collect, make_session, run_cli
from tui.pilot_helpers import send, wait_for_reply

NO_RETRIES = RetryPolicy(server_retries=0, rate_limit_retries=0)
# Shaped like a real key, with a "." (outside a real key's alphabet) so no scanner takes it for one.
SECRET = "AIzaSyD.flashchat-secret-key-0123456789"
BAD_KEYS = {
    "non-ASCII": ("AIzaSyD-sécret-key-0123456789", "a non-ASCII character at position 10"),
    "newline": ("AIzaSyD-secret\nkey-0123456789", "a line break at position 15"),
    "space": ("AIzaSyD-secret key-0123456789", "a space at position 15"),
    "tab": ("AIzaSyD-secret\tkey-0123456789", "a space at position 15"),
    "escape": ("AIzaSyD-secret\x1b[2Jkey-0123", "a control character at position 15"),
    "bidi": ("AIzaSyD-secret\u202ekey-0123", "a non-ASCII character at position 15"),
}


@pytest.fixture
def secret_fake() -> FakeGemini:
    with FakeGemini(api_keys=[SECRET]) as server:
        yield server


@pytest.mark.parametrize("name", BAD_KEYS)
def test_a_key_with_a_character_no_key_has_is_one_line_exit_2(
    name: str, fake: FakeGemini, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    key, problem = BAD_KEYS[name]
    monkeypatch.setenv("GEMINI_API_KEY", key)
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", fake.url)
    for args in (["-p", "hi"], ["--plain"], ["config", "show"]):
        assert main(args) == 2
        stderr = capsys.readouterr().err
        assert stderr == (
            f"flashchat: GEMINI_API_KEY: the API key has {problem} (of {len(key.strip())}), which no API key has: "
            "copy it again from https://aistudio.google.com/apikey and set it with `export GEMINI_API_KEY=...` "
            "or `flashchat config set api_key -`\n"
        )
        assert "secret" not in stderr and "key-0123" not in stderr
    assert fake.requests == []


def test_a_bad_key_in_the_config_file_names_the_file_not_the_key(config_file: Path, fake: FakeGemini, capsys) -> None:
    config_file.write_text(f'base_url = "{fake.url}"\napi_key = "AIzaSy-sécret-0123456789"\n')
    assert main(["-p", "hi"]) == 2
    stderr = capsys.readouterr().err
    assert stderr.startswith(f"flashchat: {config_file}: line 2: the API key has a non-ASCII character at position 9")
    assert "sécret" not in stderr and stderr.count("\n") == 1


def test_config_set_refuses_a_key_with_a_newline(config_file: Path, capsys) -> None:
    assert main(["config", "set", "api_key", "AIzaSy-secret\nmore"]) == 2
    stderr = capsys.readouterr().err
    assert "a line break at position 14" in stderr and "secret" not in stderr
    assert not config_file.exists()


def test_a_non_ascii_key_in_a_real_process_is_no_traceback(fake: FakeGemini, cli_env: dict) -> None:
    """It used to crash in httpx's header encoding with a UnicodeEncodeError traceback."""
    result = run_cli(["-p", "hi"], {**cli_env, "GEMINI_API_KEY": "tëst-key-123456"})
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "tëst" not in result.stderr and result.stderr.count("\n") == 1


@pytest.mark.parametrize(
    "reply",
    [
        hostile.gemini_error(400, message=f"API key {SECRET} is not valid for this project."),
        hostile.gemini_error(403, message=f"Permission denied for key={SECRET}"),
        hostile.gemini_error(400, message=f"Bad request\n{hostile.ESCAPES}{SECRET}"),
        RawReply(400, f"<html><title>Denied {SECRET}</title></html>".encode()),
        RawReply(400, f"upstream said: key {SECRET} refused".encode(), "text/plain"),
    ],
)
def test_the_gemini_provider_masks_a_key_the_server_echoes(
    reply: object, secret_fake: FakeGemini, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setenv("GEMINI_API_KEY", SECRET)
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", secret_fake.url)
    secret_fake.enqueue(reply)  # type: ignore[arg-type]
    assert main(["-p", "hi"]) == 1
    stderr = capsys.readouterr().err
    assert SECRET not in stderr and SECRET[-12:-4] not in stderr
    assert "****6789" in stderr and stderr.count("\n") == 1


async def test_the_openai_provider_masks_it_too(openai_settings: Settings, fake_openai: FakeOpenAI) -> None:
    fake_openai.api_keys.add(SECRET)
    settings = Settings(provider="openai", base_url=fake_openai.url, api_key=SECRET)
    fake_openai.enqueue(RawReply(500, f"<html><title>Oops {SECRET}</title></html>".encode()))
    fake_openai.enqueue(hostile.openai_error(400, message=f"bad key {SECRET}"))
    for _ in range(2):
        failure = (await collect(make_session(settings, retry_policy=NO_RETRIES).send("hi")))[-1]
        assert isinstance(failure, Failed)
        assert SECRET not in failure.error.message and SECRET not in failure.error.detail
        assert "****6789" in failure.error.message


@pytest.mark.parametrize("provider", ["gemini", "openai"])
async def test_a_key_built_into_settings_directly_is_checked_by_the_provider(
    provider: str, fake: FakeGemini, fake_openai: FakeOpenAI
) -> None:
    """Settings made in code (not from the config file or environment) meet the same check, as a ChatError."""
    url = fake.url if provider == "gemini" else fake_openai.url
    settings = Settings(provider=provider, base_url=url, api_key="tëst-secret-12345")
    failure = (await collect(make_session(settings).send("hi")))[-1]
    assert isinstance(failure, Failed) and failure.error.kind is ErrorKind.BAD_KEY
    assert failure.error.message.startswith("The API key has a non-ASCII character at position 2 (of 17)")
    assert "secret" not in failure.error.message
    assert fake.requests == [] and fake_openai.requests == []


async def test_the_tui_never_shows_the_key(secret_fake: FakeGemini, isolated_home: Path) -> None:
    secret_fake.enqueue(hostile.gemini_error(400, message=f"API key {SECRET} not valid"))
    settings = Settings(api_key=SECRET, base_url=secret_fake.url)
    config_path = isolated_home / "config" / "flashchat" / "config.toml"
    app = FlashchatApp(settings, config_path=config_path, retry_policy=FAST_RETRIES, warm_up=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await send(pilot, "hi")
        await wait_for_reply(pilot)
        shown = str(app.query_one(ErrorNotice).render())
        assert "****6789" in shown and SECRET not in shown
        assert SECRET not in app.export_screenshot()
