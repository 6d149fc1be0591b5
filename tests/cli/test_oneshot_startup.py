"""What one-shot mode does before its request: the provider's module imported once, and kept out of the garbage
collector's walks (providers/__init__.py `import_provider_kept`), in a fresh process as `flashchat -p` runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from flashchat.testing.fake_gemini import FakeGemini, Reply
from support import run_cli

PROBE = """
import gc, json, sys
from flashchat.providers import import_provider_kept
from flashchat.config.settings import load_settings

import_provider_kept(load_settings())
print(json.dumps({
    "sdk": "google.genai" in sys.modules,
    "http": "httpx2" in sys.modules,
    "collector_on": gc.isenabled(),
    "frozen": gc.get_freeze_count(),
}))
"""


def probe(env: dict[str, str]) -> dict[str, object]:
    completed = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, check=True)
    return json.loads(completed.stdout)


def test_the_gemini_sdk_is_imported_and_frozen_with_the_collector_back_on(cli_env: dict[str, str]) -> None:
    found = probe(cli_env)
    assert found["sdk"] and found["collector_on"]
    # The SDK's classes and the rest of its import (~80,000 objects) are out of every later collection.
    assert isinstance(found["frozen"], int) and found["frozen"] > 50_000


def test_the_openai_provider_imports_no_gemini_sdk(cli_env: dict[str, str], config_file: Path) -> None:
    config_file.write_text('provider = "openai"\nbase_url = "http://127.0.0.1:9/v1"\n')
    found = probe({**cli_env, "OPENAI_API_KEY": "sk-test"})
    assert found["http"] and not found["sdk"] and found["collector_on"]


def test_a_reply_streams_as_before(fake: FakeGemini, cli_env: dict[str, str]) -> None:
    fake.enqueue(Reply.text("one two three four five six", chunk_chars=3))
    result = run_cli(["-p", "count"], cli_env)
    assert (result.returncode, result.stdout, result.stderr) == (0, "one two three four five six\n", "")
