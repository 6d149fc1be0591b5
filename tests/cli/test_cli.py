"""The `flashchat` command end to end, as a subprocess with pipes (and once under a pseudo-terminal)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from flashchat.testing.fake_gemini import FakeGemini, Reply
from support import default_sigint, run_cli, run_in_terminal


def test_piped_reply_is_exactly_the_text(fake: FakeGemini, cli_env: dict) -> None:
    fake.enqueue(Reply.text("The GIL lets one thread run Python bytecode at a time.", chunk_chars=7))
    result = run_cli(["-p", "Explain the GIL"], cli_env)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == "The GIL lets one thread run Python bytecode at a time.\n"
    request = fake.generate_requests()[0]
    assert request.user_texts() == ["Explain the GIL"]
    assert request.path.endswith("/models/gemini-3.5-flash:streamGenerateContent")
    assert request.query == {"alt": "sse"}
    assert request.headers["x-goog-api-key"] == fake.api_key


def test_stdin_is_appended_as_a_fenced_block(fake: FakeGemini, cli_env: dict) -> None:
    diff = "diff --git a/x.py b/x.py\n--- a/x.py\n+++ b/x.py\n@@ -1 +1 @@\n-a = 1\n+a = 2\n"
    result = run_cli(["-p", "Review this change", "--thinking", "high"], cli_env, stdin=diff.encode())
    assert result.returncode == 0
    request = fake.generate_requests()[0]
    assert request.user_texts() == [f"Review this change\n\n```diff\n{diff.rstrip()}\n```"]
    assert request.thinking_level() == "HIGH"


def test_stdin_alone_is_the_prompt(fake: FakeGemini, cli_env: dict) -> None:
    result = run_cli([], cli_env, stdin=b"What is 2+2?\n")
    assert result.returncode == 0 and result.stdout == "Echo: What is 2+2?\n"


def test_fence_is_longer_than_any_backticks_in_stdin(fake: FakeGemini, cli_env: dict) -> None:
    run_cli(["-p", "explain"], cli_env, stdin=b"Use ```code``` and ````more````\n")
    assert fake.generate_requests()[0].user_texts()[0].startswith("explain\n\n`````\n")


def test_non_utf8_stdin_is_replaced_with_a_warning(fake: FakeGemini, cli_env: dict) -> None:
    result = run_cli(["-p", "what is this"], cli_env, stdin=b"caf\xe9 \xff\xfe bytes\n")
    assert result.returncode == 0
    assert "stdin is not valid UTF-8" in result.stderr and "Traceback" not in result.stderr
    assert "caf\ufffd \ufffd\ufffd bytes" in fake.generate_requests()[0].user_texts()[0]


def test_json_output_is_one_object(fake: FakeGemini, cli_env: dict) -> None:
    usage = {"prompt": 40, "candidates": 12, "thoughts": 30, "cached": 8}
    fake.enqueue(Reply.text("Four.", thoughts="adding", usage=usage))
    result = run_cli(["-p", "2+2?", "--json", "--show-thoughts", "--thinking", "low"], cli_env)
    assert result.returncode == 0
    data = json.loads(result.stdout)
    assert data.pop("response_id")  # the server's id of the response, random in the fake
    assert data.pop("token_details") == {"prompt": {"TEXT": 40}}
    assert data == {
        "text": "Four.",
        "thoughts": "adding",
        "usage": {"prompt": 40, "output": 12, "thoughts": 30, "cached": 8, "tool_use": 0, "total": 82},
        # At gemini-3.5-flash's list price: 32 uncached x $1.50 + 8 cached x $0.15 + 42 output x $9.00, per 1M.
        "cost_usd": pytest.approx((32 * 1.50 + 8 * 0.15 + 42 * 9.00) / 1e6),
        "finish_reason": "STOP",
        "model_version": "gemini-3.5-flash",
        "thinking_level": "low",
        "incomplete": False,
    }


def test_usage_line_goes_to_stderr(fake: FakeGemini, cli_env: dict) -> None:
    fake.enqueue(Reply.text("ok", usage={"prompt": 1234, "candidates": 56, "thoughts": 789, "cached": 0}))
    result = run_cli(["-p", "hi", "--usage"], cli_env)
    assert result.stdout == "ok\n"
    assert "prompt 1,234 · thoughts 789 · output 56 · cached 0 · total 2,079 tokens" in result.stderr
    assert "thinking medium" in result.stderr
    # 1,234 x $1.50 + (56 + 789) x $9.00 per 1M at gemini-3.5-flash's list price.
    assert "cost $0.0095" in result.stderr


def test_usage_cost_uses_the_configured_prices(fake: FakeGemini, cli_env: dict) -> None:
    config = Path(cli_env["XDG_CONFIG_HOME"]) / "flashchat" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text("price_input_per_million = 10.0\nprice_output_per_million = 100.0\n")
    fake.enqueue(Reply.text("ok", usage={"prompt": 1000, "candidates": 1000, "thoughts": 0, "cached": 0}))
    result = run_cli(["-p", "hi", "--usage"], cli_env)
    assert result.returncode == 0
    assert "cost $0.1100" in result.stderr  # 1,000 x $10 + 1,000 x $100, per 1M


def test_thoughts_go_to_stderr_when_piped(fake: FakeGemini, cli_env: dict) -> None:
    fake.enqueue(Reply.text("answer", thoughts="pondering deeply"))
    result = run_cli(["-p", "hi", "--show-thoughts"], cli_env)
    assert result.stdout == "answer\n"
    assert "pondering deeply" in result.stderr
    assert fake.generate_requests()[0].include_thoughts()


def test_no_key_says_how_to_set_one(cli_env: dict) -> None:
    del cli_env["GEMINI_API_KEY"]
    result = run_cli(["-p", "hi"], cli_env)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert "GEMINI_API_KEY" in result.stderr and "flashchat config set api_key" in result.stderr


def test_bad_key_exits_1_with_a_fix(fake: FakeGemini, cli_env: dict) -> None:
    cli_env["GEMINI_API_KEY"] = "fake-key-ThisIsNotAValidKeyAtAll000000"
    result = run_cli(["-p", "hi"], cli_env)
    assert result.returncode == 1
    assert "API key was rejected" in result.stderr and "Traceback" not in result.stderr
    assert "fake-key-ThisIsNotAValidKeyAtAll000000" not in result.stderr + result.stdout


def test_rate_limit_is_announced_then_succeeds(fake: FakeGemini, cli_env: dict) -> None:
    fake.enqueue(Reply.rate_limited(retry_delay="0.2s"), Reply.text("after waiting"))
    result = run_cli(["-p", "hi"], cli_env)
    assert result.returncode == 0 and result.stdout == "after waiting\n"
    assert "Retrying in 0.2 s (attempt 2 of 4)" in result.stderr
    assert len(fake.generate_requests()) == 2


def test_server_error_exhausts_retries_and_exits_1(fake: FakeGemini, cli_env: dict) -> None:
    fake.enqueue(*[Reply.server_error(503) for _ in range(3)])
    result = run_cli(["-p", "hi"], cli_env)
    assert result.returncode == 1 and "503" in result.stderr
    assert result.stderr.count("Retrying") == 2 and len(fake.generate_requests()) == 3


def test_drop_mid_stream_prints_the_partial_text_and_exits_1(fake: FakeGemini, cli_env: dict) -> None:
    fake.enqueue(Reply.text("The first part arrives and then", chunk_chars=10, drop_after=2))
    result = run_cli(["-p", "hi", "--json"], cli_env)
    assert result.returncode == 1
    data = json.loads(result.stdout)
    assert data["text"] == "The first part arriv" and data["incomplete"] is True
    assert data["error"]["kind"] == "network"


def test_truncated_stream_exits_1_and_keeps_text(fake: FakeGemini, cli_env: dict) -> None:
    fake.enqueue(Reply.text("half an answer", truncate=True))
    result = run_cli(["-p", "hi"], cli_env)
    assert result.returncode == 1 and result.stdout == "half an answer\n"
    assert "ended before the model finished" in result.stderr


def test_invalid_config_names_file_and_line(cli_env: dict, isolated_home: Path) -> None:
    config = isolated_home / "config" / "flashchat" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text('model = "gemini-3.5-flash"\nthinking_level = "extreme"\n')
    result = run_cli(["-p", "hi"], cli_env)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"{config}: line 2: thinking_level = 'extreme' is not allowed; use one of minimal, low, medium, high" in (
        result.stderr
    )


def test_sdk_warnings_go_to_the_log_file_not_the_terminal(fake: FakeGemini, cli_env: dict, isolated_home: Path) -> None:
    """An unknown finishReason makes the SDK call warnings.warn; it must not reach stderr."""
    chunk = {"candidates": [{"content": {"role": "model", "parts": [{"text": "hi"}]}, "finishReason": "NEW_REASON"}]}
    fake.enqueue(Reply.events([chunk]))
    cli_env["GOOGLE_API_KEY"] = cli_env["GEMINI_API_KEY"]  # both set: the SDK would log a warning too
    result = run_cli(["-p", "hi"], cli_env)
    assert result.stdout == "hi\n"
    assert "NEW_REASON" not in result.stderr.replace("stopped early (NEW_REASON)", "")
    log = (isolated_home / "data" / "flashchat" / "flashchat.log").read_text()
    assert "NEW_REASON is not a valid FinishReason" in log
    assert fake.api_key not in log


def test_version_and_help_do_not_import_the_sdk() -> None:
    code = (
        "import sys, contextlib, io\n"
        "from flashchat.cli.main import main\n"
        "for args in (['--version'], ['--help'], ['config', '--help']):\n"
        "    with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n"
        "        main(args)\n"
        "heavy = ('google', 'rich', 'httpx2', 'textual', 'prompt_toolkit', 'flashchat.store.conversation_store')\n"
        "print(sorted(m for m in sys.modules if m.startswith(heavy)))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
    version = subprocess.run([sys.executable, "-m", "flashchat", "--version"], capture_output=True, text=True)
    assert version.stdout.startswith("flashchat ") and version.returncode == 0
    helped = subprocess.run([sys.executable, "-m", "flashchat", "--help"], capture_output=True, text=True)
    assert "git diff | flashchat -p" in helped.stdout and "exit codes" in helped.stdout


def test_ctrl_c_keeps_what_arrived_and_exits_130(fake: FakeGemini, cli_env: dict) -> None:
    fake.enqueue(Reply.text("word " * 40, chunk_chars=5, delay_s=0.1))
    process = subprocess.Popen(
        [sys.executable, "-m", "flashchat", "-p", "hi", "--json"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=cli_env,
        preexec_fn=default_sigint,
    )
    fake.wait_for_requests(1, timeout=20)
    time.sleep(0.6)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=20)
    assert process.returncode == 130, stderr
    data = json.loads(stdout)
    assert data["incomplete"] is True and data["text"].startswith("word word")
    assert "interrupted" in stderr.decode() and "Traceback" not in stderr.decode()


def test_terminal_gets_rendered_markdown_with_escapes_neutralised(fake: FakeGemini, cli_env: dict) -> None:
    hostile = "# Title\n\nSome **bold** text.\n\nclipboard \x1b]52;c;ZXZpbA==\x07 and clear \x1b[2J done\n"
    fake.enqueue(Reply.text(hostile, chunk_chars=9))
    screen = run_in_terminal(["-p", "hi"], cli_env)
    assert "Title" in screen and "# Title" not in screen  # rendered as a heading, not raw Markdown
    assert "**bold**" not in screen
    assert "\x1b]52" not in screen and "\x1b[2J" not in screen
    assert "␛]52;c;ZXZpbA==␇" in screen and "␛[2J" in screen


@pytest.mark.parametrize("args", [["--thinking", "extreme", "-p", "x"], ["config", "frobnicate"]])
def test_usage_errors_exit_2(args: list[str], cli_env: dict) -> None:
    result = run_cli(args, cli_env)
    assert result.returncode == 2 and "Traceback" not in result.stderr
