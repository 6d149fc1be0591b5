"""Shared fixtures and helpers: an isolated home for every test, its config file, the fake servers, sessions
with fast retries, and a CLI runner."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from flashchat.config import ConfigError, Settings, load_settings
from flashchat.session import ChatSession, RetryPolicy
from flashchat.testing.fake_gemini import FakeGemini
from flashchat.testing.fake_openai import FakeOpenAI

ENV_VARS_TO_CLEAR = (
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "GOOGLE_GEMINI_BASE_URL",
    "GOOGLE_GENAI_USE_VERTEXAI",
    "GOOGLE_GENAI_API_VERSION",
    "OPENAI_API_KEY",
    "NO_COLOR",
)


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Config and data dirs under tmp_path, and no key or base URL leaking in from the developer's shell."""
    for name in ENV_VARS_TO_CLEAR:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    return tmp_path


@pytest.fixture
def config_file(isolated_home: Path) -> Path:
    path = isolated_home / "config" / "flashchat" / "config.toml"
    path.parent.mkdir(parents=True)
    return path


def assert_one_line_config_error(config_file: Path, text: str, expected: str) -> None:
    """Loading ``text`` fails with a single line that names the file first and contains ``expected``."""
    config_file.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_settings(config_file, environ={})
    message = str(caught.value)
    assert message.startswith(f"{config_file}: ") and expected in message
    assert "\n" not in message


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The current directory for a chat that mentions or reads files: one small Python file in it."""
    root = tmp_path / "work"
    root.mkdir()
    (root / "app.py").write_text("def add(a, b):\n    return a - b\n")
    monkeypatch.chdir(root)
    return root


@pytest.fixture
def fake() -> FakeGemini:
    with FakeGemini() as server:
        yield server


@pytest.fixture
def settings(fake: FakeGemini) -> Settings:
    return Settings(api_key=fake.api_key, base_url=fake.url, first_token_timeout=20, idle_timeout=20)


@pytest.fixture
def fake_openai() -> FakeOpenAI:
    """The fake OpenAI-compatible server (url ends in /v1; fake_openai.api_key is the accepted key)."""
    with FakeOpenAI() as server:
        yield server


@pytest.fixture
def openai_settings(fake_openai: FakeOpenAI) -> Settings:
    """Settings for the OpenAI-compatible provider pointed at `fake_openai`."""
    return Settings(
        provider="openai",
        base_url=fake_openai.url,
        api_key=fake_openai.api_key,
        first_token_timeout=20,
        idle_timeout=20,
    )


class RecordingSleep:
    """Stands in for asyncio.sleep in the session so retry delays are asserted, not waited for."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@pytest.fixture
def recording_sleep() -> RecordingSleep:
    return RecordingSleep()


FAST_RETRIES = RetryPolicy(base_delay=0.01, jitter=0.0)


def make_session(settings: Settings, **kwargs) -> ChatSession:
    kwargs.setdefault("retry_policy", FAST_RETRIES)
    return ChatSession(settings, **kwargs)


async def collect(stream) -> list:
    """Every event of a turn; the stream is closed here, not left to the garbage collector."""
    async with contextlib.aclosing(stream):
        return [event async for event in stream]


@dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def cli_env(fake: FakeGemini, isolated_home: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in ENV_VARS_TO_CLEAR}
    env.update(GEMINI_API_KEY=fake.api_key, GOOGLE_GEMINI_BASE_URL=fake.url, PYTHONUNBUFFERED="1")
    return env


def run_cli(args: list[str], env: dict[str, str], stdin: bytes | None = None, timeout: float = 60) -> CliResult:
    """Run `python -m flashchat` as a real subprocess with pipes (no TTY), like a script would."""
    completed = subprocess.run(
        [sys.executable, "-m", "flashchat", *args],
        input=stdin if stdin is not None else b"",
        capture_output=True,
        env=env,
        timeout=timeout,
    )
    return CliResult(
        completed.returncode, completed.stdout.decode("utf-8", "replace"), completed.stderr.decode("utf-8", "replace")
    )
