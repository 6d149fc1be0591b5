"""Named endpoints in config, key resolution, `--endpoint`, and the CLI through the OpenAI-compatible provider."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flashchat.cli.main import main
from flashchat.config.settings import (
    ConfigError,
    list_endpoints,
    load_settings,
    needs_api_key,
    settings_for_endpoint,
    update_config_file,
)
from flashchat.store.conversation_store import open_store
from flashchat.testing.fake_gemini import FakeGemini
from flashchat.testing.fake_openai import DEFAULT_SIGNATURE, FakeOpenAI, Reply
from support import assert_one_line_config_error, run_cli

GATEWAY_KEY = "gw-secret-key-0123456789"


def write_endpoints(path: Path, local_url: str, *, extra: str = "", local_extra: str = "") -> None:
    path.write_text(
        f"""thinking_level = "low"
{extra}
[endpoints.gateway]
provider = "openai"
base_url = "https://gateway.example/v1"
api_key_env = "GATEWAY_KEY"
model = "gemini-3.5-flash"

[endpoints.local]
provider = "openai"
base_url = "{local_url}"
model = "qwen3-8b-instruct"
{local_extra}
"""
    )


# --- config --------------------------------------------------------------------------------------------


def test_an_endpoint_table_overrides_the_top_level(config_file: Path) -> None:
    write_endpoints(config_file, "http://127.0.0.1:9/v1", local_extra="stream = false\nthinking_level = 'high'\n")
    top = load_settings(config_file, environ={})
    assert (top.provider, top.endpoint, top.thinking_level, top.model) == ("gemini", "", "low", "gemini-3.5-flash")
    assert list_endpoints(top) == ["gateway", "local"]
    local = load_settings(config_file, environ={}, endpoint="local")
    assert (local.provider, local.base_url, local.model, local.stream) == (
        "openai",
        "http://127.0.0.1:9/v1",
        "qwen3-8b-instruct",
        False,
    )
    assert local.thinking_level == "high" and local.endpoint == "local"
    assert local.origins["model"] == "[endpoints.local]" and local.origins["endpoint"] == "--endpoint"
    assert not needs_api_key(local) and needs_api_key(top)


def test_the_endpoint_key_picks_the_default(config_file: Path) -> None:
    write_endpoints(config_file, "http://127.0.0.1:9/v1", extra='endpoint = "local"')
    settings = load_settings(config_file, environ={})
    assert (settings.endpoint, settings.provider) == ("local", "openai")
    assert load_settings(config_file, environ={}, endpoint="gateway").base_url == "https://gateway.example/v1"


def test_settings_for_endpoint_rereads_the_file(config_file: Path) -> None:
    write_endpoints(config_file, "http://127.0.0.1:9/v1")
    switched = settings_for_endpoint("gateway", config_file, environ={"GATEWAY_KEY": GATEWAY_KEY})
    assert (switched.endpoint, switched.api_key, switched.origins["endpoint"]) == ("gateway", GATEWAY_KEY, "switched")
    assert settings_for_endpoint(None, config_file, environ={}).endpoint == ""
    with pytest.raises(ConfigError, match="defined endpoints: gateway, local"):
        settings_for_endpoint("nope", config_file, environ={})


@pytest.mark.parametrize(
    ("environ", "table", "key", "origin"),
    [
        # OPENAI_API_KEY for an endpoint that names no variable of its own.
        ({"OPENAI_API_KEY": "sk-openai", "GEMINI_API_KEY": "gem"}, "", "sk-openai", "OPENAI_API_KEY"),
        # The variable named by api_key_env comes first: a gateway key is not replaced by the shell's OpenAI key.
        ({"OPENAI_API_KEY": "sk-openai", "MY_KEY": "mine"}, 'api_key_env = "MY_KEY"', "mine", "MY_KEY"),
        # ... and when it is empty, the usual variable, then the file.
        ({"OPENAI_API_KEY": "sk-openai", "MY_KEY": ""}, 'api_key_env = "MY_KEY"', "sk-openai", "OPENAI_API_KEY"),
        ({}, 'api_key_env = "MY_KEY"\napi_key = "from-file"', "from-file", "[endpoints.x]"),
        # Gemini's keys are not sent to another provider's endpoint.
        ({"GEMINI_API_KEY": "gem", "GOOGLE_API_KEY": "goo"}, "", "", None),
    ],
)
def test_key_resolution_for_provider_openai(
    config_file: Path, environ: dict, table: str, key: str, origin: str | None
) -> None:
    config_file.write_text(f'[endpoints.x]\nprovider = "openai"\n{table}\n')
    settings = load_settings(config_file, environ=environ, endpoint="x")
    assert settings.api_key == key and settings.origins.get("api_key") == origin


def test_gemini_key_resolution_is_unchanged_and_its_base_url_variable_stays_with_gemini(config_file: Path) -> None:
    write_endpoints(config_file, "http://127.0.0.1:9/v1")
    environ = {"GEMINI_API_KEY": "gem", "OPENAI_API_KEY": "sk", "GOOGLE_GEMINI_BASE_URL": "http://gemini.fake"}
    gemini = load_settings(config_file, environ=environ)
    assert (gemini.api_key, gemini.base_url) == ("gem", "http://gemini.fake")
    local = load_settings(config_file, environ=environ, endpoint="local")
    assert (local.api_key, local.base_url) == ("sk", "http://127.0.0.1:9/v1")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '[endpoints.local]\nprovider = "anthropic"\n',
            "line 2: [endpoints.local]: provider = 'anthropic' is not allowed; use one of gemini, openai",
        ),
        (
            'model = "m"\n\n[endpoints.local]\nbase_url = "http://x/v1"\nmodle = "q"\n',
            "line 5: [endpoints.local]: unknown key 'modle' (did you mean 'model'?); an endpoint table may set: model,",
        ),
        ('[endpoints.a]\ntheme = "dark"\n', "line 2: [endpoints.a]: unknown key 'theme'"),
        ('[endpoints.a]\nendpoint = "b"\n', "line 2: [endpoints.a]: unknown key 'endpoint'"),
        ('[endpoints.a]\nmodel = "m"\n[endpoints.b]\nstream = "no"\n', "line 4: [endpoints.b]: stream = 'no'"),
        ("[endpoints.a]\nmax_output_tokens = 0\n", "line 2: [endpoints.a]: max_output_tokens = 0 is not allowed"),
        ('endpoints.local.temperature = "hot"\n', "line 1: [endpoints.local]: temperature = 'hot' is not allowed"),
        ("[endpoints]\nlocal = { stream = 1 }\n", "line 2: [endpoints.local]: stream = 1 is not allowed"),
        ("[endpoints]\nlocal = 3\n", "line 2: endpoints.local must be a table: write [endpoints.local]"),
        ('endpoints = "local"\n', "line 1: endpoints must be tables like [endpoints.NAME], not str"),
        (
            'endpoint = "nope"\n[endpoints.local]\nmodel = "m"\n',
            "line 1: endpoint 'nope' is not defined; defined endpoints: local",
        ),
        ('endpoint = "nope"\n', "line 1: endpoint 'nope' is not defined; no [endpoints.NAME] tables are defined"),
    ],
)
def test_bad_endpoint_tables_are_one_line_errors_naming_file_line_and_table(
    config_file: Path, text: str, expected: str
) -> None:
    assert_one_line_config_error(config_file, text, expected)


def test_config_show_masks_endpoint_keys(config_file: Path, capsys: pytest.CaptureFixture) -> None:
    write_endpoints(config_file, "http://127.0.0.1:9/v1", local_extra=f'api_key = "{GATEWAY_KEY}"\n')
    assert main(["config", "show"]) == 0
    out = capsys.readouterr().out
    assert GATEWAY_KEY not in out and "****6789" in out
    assert "[endpoints.local]" in out and 'provider = "openai"' in out
    assert main(["--endpoint", "local", "config", "show"]) == 0
    out = capsys.readouterr().out
    assert 'endpoint = "local"  # --endpoint' in out and GATEWAY_KEY not in out
    assert 'api_key = "****6789"  # [endpoints.local]' in out


def test_config_set_endpoint_must_name_a_table(config_file: Path, capsys: pytest.CaptureFixture) -> None:
    write_endpoints(config_file, "http://127.0.0.1:9/v1")
    with pytest.raises(ConfigError, match="defined endpoints: gateway, local"):
        update_config_file(config_file, "endpoint", "nope")
    assert main(["config", "set", "endpoint", "local"]) == 0
    assert load_settings(config_file, environ={}).endpoint == "local"
    assert list_endpoints(load_settings(config_file, environ={})) == ["gateway", "local"]  # tables kept


# --- the command line ----------------------------------------------------------------------------------


@pytest.fixture
def local_server() -> FakeOpenAI:
    """A local OpenAI-compatible server that, like llama.cpp by default, wants no key."""
    with FakeOpenAI(api_keys=()) as server:
        yield server


def test_unknown_endpoint_exits_2_with_the_defined_ones(config_file: Path, cli_env: dict) -> None:
    write_endpoints(config_file, "http://127.0.0.1:9/v1")
    result = run_cli(["--endpoint", "nope", "-p", "hi"], cli_env)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "endpoint 'nope' is not defined; defined endpoints: gateway, local" in result.stderr
    assert result.stderr.count("\n") == 1


def test_one_shot_through_an_endpoint(
    config_file: Path, cli_env: dict, local_server: FakeOpenAI, fake: FakeGemini
) -> None:
    write_endpoints(config_file, local_server.url)
    local_server.enqueue(Reply.text("Local answer.", reasoning="local thoughts"))
    result = run_cli(["--endpoint", "local", "-p", "hi", "--json", "--thinking", "high"], cli_env)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["text"], data["thoughts"], data["finish_reason"], data["incomplete"]) == (
        "Local answer.",
        "local thoughts",
        "STOP",
        False,
    )
    request = local_server.completion_requests()[0]
    assert request.model == "qwen3-8b-instruct" and request.reasoning_effort == "high"
    # GEMINI_API_KEY is set in this environment but belongs to Gemini: no key is sent to the local server.
    assert "authorization" not in request.headers
    assert fake.generate_requests() == []


def test_the_default_endpoint_from_config_and_openai_api_key(
    config_file: Path, cli_env: dict, fake_openai: FakeOpenAI
) -> None:
    write_endpoints(config_file, fake_openai.url, extra='endpoint = "local"')
    cli_env["OPENAI_API_KEY"] = fake_openai.api_key
    result = run_cli(["-p", "hello"], cli_env)
    assert (result.returncode, result.stdout, result.stderr) == (0, "Echo: hello\n", "")
    assert fake_openai.completion_requests()[0].headers["authorization"] == f"Bearer {fake_openai.api_key}"


def test_no_key_for_an_endpoint_that_wants_one_exits_1_saying_how_to_set_it(
    config_file: Path, cli_env: dict, fake_openai: FakeOpenAI
) -> None:
    write_endpoints(config_file, fake_openai.url)
    result = run_cli(["--endpoint", "local", "-p", "hi"], cli_env)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "OPENAI_API_KEY" in result.stderr and "[endpoints.local]" in result.stderr


def test_no_gemini_key_still_exits_2(config_file: Path, cli_env: dict) -> None:
    write_endpoints(config_file, "http://127.0.0.1:9/v1")
    del cli_env["GEMINI_API_KEY"]
    result = run_cli(["-p", "hi"], cli_env)
    assert result.returncode == 2 and "GEMINI_API_KEY" in result.stderr


def test_conversations_are_stored_and_continued_like_native_ones(
    config_file: Path, cli_env: dict, local_server: FakeOpenAI
) -> None:
    write_endpoints(config_file, local_server.url)
    local_server.enqueue(Reply.text("The GIL is a lock.", reasoning="recall"))
    first = run_cli(["--endpoint", "local", "-p", "What is the GIL?"], cli_env)
    assert (first.returncode, first.stdout) == (0, "The GIL is a lock.\n"), first.stderr
    second = run_cli(["--endpoint", "local", "-c", "-p", "And asyncio?"], cli_env)
    assert (second.returncode, second.stdout) == (0, "Echo: And asyncio?\n"), second.stderr

    request = local_server.completion_requests()[1]
    assert request.messages == [
        {"role": "user", "content": "What is the GIL?"},
        {
            "role": "assistant",
            "content": "The GIL is a lock.",
            "extra_content": {"google": {"thought_signature": DEFAULT_SIGNATURE}},
        },
        {"role": "user", "content": "And asyncio?"},
    ]
    store = open_store()
    try:
        conversation = store.load(store.latest_id())
    finally:
        store.close()
    assert [m.role for m in conversation.messages] == ["user", "model", "user", "model"]
    reply = conversation.messages[1]
    assert (reply.provider, reply.model, reply.thoughts, reply.finish_reason) == (
        "openai",
        "qwen3-8b-instruct",
        "recall",
        "STOP",
    )
    assert reply.native["extra_content"]["google"]["thought_signature"] == DEFAULT_SIGNATURE
    assert reply.usage is not None and reply.usage.thoughts > 0

    history = run_cli(["history", "show", conversation.id], cli_env)
    assert history.returncode == 0 and "The GIL is a lock." in history.stdout


def test_a_gemini_conversation_continues_through_an_endpoint(
    config_file: Path, cli_env: dict, fake: FakeGemini, local_server: FakeOpenAI
) -> None:
    write_endpoints(config_file, local_server.url)
    assert run_cli(["-p", "start on gemini"], cli_env).returncode == 0
    result = run_cli(["--endpoint", "local", "-c", "-p", "go on locally"], cli_env)
    assert result.returncode == 0, result.stderr
    assert local_server.completion_requests()[0].messages == [
        {"role": "user", "content": "start on gemini"},
        {"role": "assistant", "content": "Echo: start on gemini"},
        {"role": "user", "content": "go on locally"},
    ]
    assert run_cli(["-c", "-p", "back to gemini"], cli_env).returncode == 0
    contents = fake.generate_requests()[-1].contents
    assert [c["role"] for c in contents] == ["user", "model", "user", "model", "user"]
    assert contents[3] == {"role": "model", "parts": [{"text": "Echo: go on locally"}]}


def test_a_rejected_reasoning_effort_is_a_notice_on_stderr(config_file: Path, cli_env: dict) -> None:
    with FakeOpenAI(api_keys=(), reject_reasoning_effort=True) as server:
        write_endpoints(config_file, server.url)
        result = run_cli(["--endpoint", "local", "-p", "hi"], cli_env)
        assert (result.returncode, result.stdout) == (0, "Echo: hi\n")
        assert "does not accept reasoning_effort='low'" in result.stderr
        assert len(server.completion_requests()) == 2


def test_help_mentions_endpoints_and_stays_light() -> None:
    import subprocess
    import sys

    helped = subprocess.run([sys.executable, "-m", "flashchat", "--help"], capture_output=True, text=True)
    assert "--endpoint NAME" in helped.stdout and "OPENAI_API_KEY" in helped.stdout


def test_a_tool_flag_the_endpoint_ignores_is_refused(fake_openai, isolated_home, cli_env) -> None:
    """Grounding asked of an OpenAI-compatible endpoint would silently do nothing: one line, exit 2, no request."""
    env = {**cli_env, "OPENAI_API_KEY": fake_openai.api_key}
    config = isolated_home / "config" / "flashchat" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(f'provider = "openai"\nbase_url = "{fake_openai.url}"\n')
    result = run_cli(["-p", "latest news?", "--search"], env)
    assert result.returncode == 2
    assert result.stderr == (
        "flashchat: --search: Google Search is not offered by provider 'openai'; "
        "leave the flag out or use another endpoint.\n"
    )
    assert fake_openai.completion_requests() == []
