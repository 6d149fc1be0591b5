"""One-shot mode with files, presets and tools, as a subprocess against the fake server."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from flashchat.config.presets import BUILTIN_PRESETS
from flashchat.testing.fake_gemini import FakeGemini, Reply
from support import GROUNDING, CliResult, run_cli


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    (root / "app.py").write_text("def add(a, b):\n    return a - b\n")
    (root / "util.py").write_text("X = 1\n")
    (root / "image.png").write_bytes(b"\x89PNG\x00\x00")
    return root


def run_in(project: Path, args: list[str], env: dict, stdin: bytes | None = None) -> CliResult:
    completed = subprocess.run(
        [sys.executable, "-m", "flashchat", *args], input=stdin or b"", capture_output=True, env=env, cwd=project
    )
    return CliResult(completed.returncode, completed.stdout.decode(), completed.stderr.decode())


def test_preset_and_files_make_the_prompt(fake: FakeGemini, cli_env: dict, project: Path) -> None:
    result = run_in(project, ["-p", "--preset", "review", "-f", "app.py"], cli_env)
    assert result.returncode == 0, result.stderr
    sent = fake.generate_requests()[0].user_texts()[0]
    assert sent == BUILTIN_PRESETS["review"] + "\n\n`app.py`:\n\n```python\ndef add(a, b):\n    return a - b\n```"


def test_globs_text_and_stdin_together(fake: FakeGemini, cli_env: dict, project: Path) -> None:
    result = run_in(project, ["-p", "compare", "-f", "*.py"], cli_env, stdin=b"some notes\n")
    assert result.returncode == 0
    sent = fake.generate_requests()[0].user_texts()[0]
    assert sent.startswith("compare\n\n```\nsome notes\n```\n\n`app.py`:")
    assert sent.endswith("`util.py`:\n\n```python\nX = 1\n```")


def test_binary_files_and_unknown_presets_are_refused(fake: FakeGemini, cli_env: dict, project: Path) -> None:
    binary = run_in(project, ["-p", "look", "-f", "image.png"], cli_env)
    assert binary.returncode == 2 and "image.png: not a type flashchat can attach" in binary.stderr
    preset = run_in(project, ["--preset", "poem", "-f", "app.py"], cli_env)
    assert preset.returncode == 2 and "unknown preset 'poem'; presets: review, explain, tests" in preset.stderr
    assert fake.generate_requests() == []


def test_size_guard_warns_before_sending(fake: FakeGemini, cli_env: dict, project: Path, isolated_home: Path) -> None:
    config = isolated_home / "config" / "flashchat" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text("attach_warn_tokens = 5\n")
    result = run_in(project, ["-p", "review", "-f", "app.py"], cli_env)
    assert result.returncode == 0
    # Counted by the API (countTokens) before anything is sent, then sent: nobody is there to ask.
    assert "The attached files are 8 tokens (attach_warn_tokens is 5). Sending anyway." in result.stderr
    assert len(fake.generate_requests()) == 1


def test_search_shows_sources(fake: FakeGemini, cli_env: dict) -> None:
    content = {"role": "model", "parts": [{"text": "Cloudy."}]}
    chunk = {"candidates": [{"content": content, "finishReason": "STOP", "groundingMetadata": GROUNDING}]}
    fake.enqueue(Reply.events([chunk]), Reply.events([chunk]))
    piped = run_cli(["-p", "weather?", "--search"], cli_env)
    assert piped.stdout == "Cloudy.\n"
    assert "1. [weather.com](https://weather.com/tokyo)" in piped.stderr and "“weather in Tokyo today”" in piped.stderr
    as_json = json.loads(run_cli(["-p", "weather?", "--search", "--json"], cli_env).stdout)
    assert as_json["sources"][1] == {"title": "jma.go.jp", "uri": "https://www.jma.go.jp/tokyo"}
    assert as_json["search_queries"] == ["weather in Tokyo today"]
    assert fake.generate_requests()[0].body["tools"] == [{"googleSearch": {}}]


def test_local_tools_need_allow_tools(fake: FakeGemini, cli_env: dict, project: Path) -> None:
    run_in(project, ["-p", "what is in app.py?"], cli_env)
    assert "tools" not in fake.generate_requests()[0].body

    fake.enqueue(Reply.function_calls([("read_file", {"path": "app.py"})]), Reply.text("add() subtracts: a bug."))
    result = run_in(project, ["-p", "what is in app.py?", "--allow-tools"], cli_env)
    assert result.returncode == 0 and result.stdout == "add() subtracts: a bug.\n"
    assert "tool: read_file(path='app.py')" in result.stderr and "tool: read_file -> ok" in result.stderr
    answer = fake.generate_requests()[-1].contents[-1]["parts"][0]
    response = answer.get("functionResponse") or answer["function_response"]
    assert response["response"] == {"result": "def add(a, b):\n    return a - b\n"}
