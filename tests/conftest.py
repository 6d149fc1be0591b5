"""Shared fixtures and helpers: an isolated home for every test, its config file, the fake servers, sessions
with fast retries, and a CLI runner."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from flashchat.config.settings import Settings
from flashchat.testing.fake_gemini import FakeGemini
from flashchat.testing.fake_openai import FakeOpenAI
from support import ENV_VARS_TO_CLEAR, RecordingSleep


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


@pytest.fixture
def recording_sleep() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
def cli_env(fake: FakeGemini, isolated_home: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in ENV_VARS_TO_CLEAR}
    env.update(GEMINI_API_KEY=fake.api_key, GOOGLE_GEMINI_BASE_URL=fake.url, PYTHONUNBUFFERED="1")
    return env
