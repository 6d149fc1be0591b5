"""`flashchat -p --schema`: the schema reaches the API in each provider's own form, the reply is printed as
checked JSON, and a reply or schema that does not fit is one line on stderr with a documented exit code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flashchat.testing.fake_gemini import FakeGemini, Reply
from flashchat.testing.fake_openai import FakeOpenAI
from flashchat.testing.fake_openai import Reply as OpenAIReply
from support import run_cli, run_in_terminal

SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "population": {"type": "integer", "minimum": 0}},
    "required": ["city", "population"],
}


def test_gemini_gets_the_schema_and_the_reply_prints_as_checked_json(
    fake: FakeGemini, cli_env: dict, tmp_path: Path
) -> None:
    schema_file = tmp_path / "city.json"
    schema_file.write_text(json.dumps(SCHEMA))
    fake.enqueue(Reply.text('{"city": "Lisbon",', chunks=['{"city": "Lis', 'bon", "population": 545923}']))
    result = run_cli(["-p", "Largest city of Portugal?", "--schema", str(schema_file)], cli_env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == '{"city": "Lisbon", "population": 545923}\n' and result.stderr == ""
    config = fake.generate_requests()[-1].body["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    assert config["responseJsonSchema"] == SCHEMA


def test_inline_schema_on_a_terminal_is_pretty_printed(fake: FakeGemini, cli_env: dict) -> None:
    fake.enqueue(Reply.text('{"city":"Porto","population":231800}'))
    shown = run_in_terminal(["-p", "Second city?", "--schema", json.dumps(SCHEMA)], cli_env)
    assert '{\r\n  "city": "Porto",\r\n  "population": 231800\r\n}' in shown


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        ('{"city": "Lisbon"}', "the reply does not match the schema: 'population' is a required property"),
        ('{"city": "Lisbon", "population": -3}', "-3 is less than the minimum of 0 (at $.population)"),
        ("Lisbon, about half a million people.", "the reply is not JSON (Expecting value at line 1)"),
    ],
)
def test_a_reply_that_does_not_match_is_one_line_and_exit_3(
    fake: FakeGemini, cli_env: dict, reply: str, message: str
) -> None:
    fake.enqueue(Reply.text(reply))
    result = run_cli(["-p", "city?", "--schema", json.dumps(SCHEMA)], cli_env)
    assert result.returncode == 3
    assert result.stdout == ""
    assert result.stderr.startswith("flashchat: error: ") and message in result.stderr
    assert result.stderr.endswith("; nothing printed (the reply is kept in the history)\n")
    assert result.stderr.count("\n") == 1


def test_json_mode_carries_the_checked_data_or_the_mismatch(fake: FakeGemini, cli_env: dict) -> None:
    fake.enqueue(Reply.text('{"city": "Faro", "population": 64560}'), Reply.text('{"city": 7}'))
    good = json.loads(run_cli(["-p", "x", "--schema", json.dumps(SCHEMA), "--json"], cli_env).stdout)
    assert good["data"] == {"city": "Faro", "population": 64560} and "error" not in good
    bad = run_cli(["-p", "x", "--schema", json.dumps(SCHEMA), "--json"], cli_env)
    document = json.loads(bad.stdout)
    assert bad.returncode == 3 and document["data"] is None
    assert document["error"]["kind"] == "schema"
    assert "7 is not of type 'string' (at $.city)" in document["error"]["message"]


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("missing.json", "--schema missing.json: no such file (give a JSON Schema file, or the schema itself as JSON)"),
        ('{"type": "object",', "--schema: not valid JSON: Expecting property name enclosed in double quotes"),
        ('{"type": "objekt"}', "--schema: not a valid JSON Schema: 'objekt' is not valid under any of the given"),
        ("[1, 2]", "--schema: a JSON Schema is an object ({...}), not list"),
    ],
)
def test_a_bad_schema_is_one_line_and_exit_2_before_anything_is_sent(
    fake: FakeGemini, cli_env: dict, given: str, message: str, tmp_path: Path
) -> None:
    result = subprocess_in(tmp_path, ["-p", "x", "--schema", given], cli_env)
    assert result.returncode == 2
    assert result.stderr.startswith(f"flashchat: {message}") and result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr and fake.generate_requests() == []


def subprocess_in(directory: Path, args: list[str], env: dict):
    import os

    old = os.getcwd()
    os.chdir(directory)
    try:
        return run_cli(args, env)
    finally:
        os.chdir(old)


def test_an_openai_compatible_server_gets_response_format(
    fake_openai: FakeOpenAI, cli_env: dict, config_file: Path
) -> None:
    config_file.write_text(f'[endpoints.local]\nprovider = "openai"\nbase_url = "{fake_openai.url}"\nmodel = "qwen"\n')
    fake_openai.enqueue(OpenAIReply.text('{"city": "Braga", "population": 193333}'))
    env = {**cli_env, "OPENAI_API_KEY": fake_openai.api_key}
    result = run_cli(["--endpoint", "local", "-p", "x", "--schema", json.dumps(SCHEMA)], env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"city": "Braga", "population": 193333}
    sent = fake_openai.completion_requests()[-1].body["response_format"]
    assert sent == {"type": "json_schema", "json_schema": {"name": "reply", "schema": SCHEMA}}


def test_schema_without_a_prompt_or_with_plain_mode_is_refused(cli_env: dict) -> None:
    result = run_cli(["--plain", "--schema", "{}"], cli_env)
    assert result.returncode == 2 and "--schema is for one-shot mode" in result.stderr
