"""Fixtures of the security suite: flashchat's entry point is called in this process, as a script runs it."""

from __future__ import annotations

import io
import sys

import pytest

from flashchat.testing.fake_gemini import FakeGemini


@pytest.fixture(autouse=True)
def empty_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    """stdin as a script has it: a pipe with nothing in it (main() reads it when it is not a terminal)."""
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"")))


@pytest.fixture
def pointed_at(fake: FakeGemini, monkeypatch: pytest.MonkeyPatch) -> FakeGemini:
    """The fake Gemini server, with its key and URL in the environment main() reads."""
    monkeypatch.setenv("GEMINI_API_KEY", fake.api_key)
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", fake.url)
    return fake
