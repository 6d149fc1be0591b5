"""What one-shot mode and `flashchat history` write when the server (or a stored conversation) is hostile:
the reply to a pipe byte for byte, everything else terminal-safe and one bounded line."""

from __future__ import annotations

import json
import re

from flashchat.testing.fake_gemini import FakeGemini, Reply
from support import run_cli, run_in_terminal

RAW_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
CLIPBOARD_WRITE = "\x1b]52;c;QQ==\x07"


def html_error(status: int, body: str) -> Reply:
    """What a proxy in front of the API answers: an HTML page, not a google.rpc JSON error."""
    headers = {"content-type": "text/html; charset=UTF-8"}
    return Reply.replay({"response": {"status": status, "headers": headers, "body_text": body}})


def test_a_pipe_gets_the_reply_byte_for_byte(fake: FakeGemini, cli_env: dict) -> None:
    fake.enqueue(Reply.text("", chunks=["line one\r", "\nline two \x1b[31mred\r", "\n"]))
    result = run_cli(["-p", "hi"], cli_env)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == "line one\r\nline two \x1b[31mred\r\n"


def test_a_crlf_split_over_two_chunks_is_a_clean_newline_on_a_terminal(fake: FakeGemini, cli_env: dict) -> None:
    fake.enqueue(Reply.text("", chunks=["line one\r", "\n\r", "\nline two\r", "\n"]))
    screen = run_in_terminal(["-p", "hi"], cli_env)
    assert "␍" not in screen
    assert "line one" in screen and "line two" in screen


def test_an_html_error_page_is_one_bounded_safe_line(fake: FakeGemini, cli_env: dict) -> None:
    page = "<!DOCTYPE html>\n<html><head><title>400 Bad Request</title></head>\n<body>" + CLIPBOARD_WRITE
    fake.enqueue(html_error(400, page + "x" * 100_000 + "</body></html>\n"))
    result = run_cli(["-p", "hi"], cli_env)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and not RAW_CONTROLS.search(result.stderr.rstrip("\n"))
    # The page is reduced to its title: the markup and the 100 KB after it are no message.
    assert result.stderr == (
        "flashchat: error: The API rejected the request (400 Bad Request): an HTML page (400 Bad Request), "
        "not an API response.\n"
    )


def test_a_hostile_finish_reason_and_model_version_on_stderr(fake: FakeGemini, cli_env: dict) -> None:
    fake.enqueue(Reply.text("partial", finish_reason="EVIL\x1b[2J", model_version="gemini\x1b]0;pwned\x07\u202e"))
    result = run_cli(["-p", "hi", "--usage"], cli_env)
    assert result.stdout == "partial\n"
    notice, usage = result.stderr.splitlines()
    assert notice == "flashchat: The model stopped early (EVIL␛[2J)."
    assert usage.endswith("gemini␛]0;pwned␇⟨U+202E⟩, thinking medium")


def test_sources_on_stderr_are_safe_and_only_http_links(fake: FakeGemini, cli_env: dict) -> None:
    grounding = {
        "webSearchQueries": ["weather\x1b[2J\ntoday"],
        "groundingChunks": [
            {"web": {"title": "[click](javascript:alert(1))" + CLIPBOARD_WRITE, "uri": "javascript:alert(1)"}},
            {"web": {"title": "weather.com", "uri": "https://weather.com/tokyo"}},
        ],
    }
    content = {"role": "model", "parts": [{"text": "Cloudy."}]}
    fake.enqueue(
        Reply.events([{"candidates": [{"content": content, "finishReason": "STOP", "groundingMetadata": grounding}]}])
    )
    result = run_cli(["-p", "weather?", "--search"], cli_env)
    assert result.stdout == "Cloudy.\n"
    assert not RAW_CONTROLS.search(result.stderr.replace("\n", ""))
    assert "1. \\[click\\]\\(javascript:alert\\(1\\)\\)␛\\]52;c;QQ==␇ (javascript:alert\\(1\\))\n" in result.stderr
    assert "2. [weather.com](https://weather.com/tokyo)\n" in result.stderr
    assert "Searched for: “weather␛\\[2J today”" in result.stderr


def test_tool_calls_and_their_errors_are_bounded_lines(fake: FakeGemini, cli_env: dict) -> None:
    hostile_path = "missing" + CLIPBOARD_WRITE + "a" * 5_000
    fake.enqueue(Reply.function_calls([("read_file", {"path": hostile_path})]), Reply.text("done"))
    result = run_cli(["-p", "read it", "--allow-tools"], cli_env)
    assert result.stdout == "done\n"
    lines = result.stderr.splitlines()
    assert len(lines) == 2 and not RAW_CONTROLS.search(result.stderr.replace("\n", ""))
    assert lines[0].startswith("flashchat: tool: read_file(path='missing\\x1b]52;c;QQ==\\x07aaa")
    assert lines[1].startswith("flashchat: tool: read_file -> error: ")
    assert all(len(line) < 700 for line in lines)


def test_history_of_a_hostile_conversation(fake: FakeGemini, cli_env: dict) -> None:
    fake.enqueue(Reply.text("reply " + CLIPBOARD_WRITE + " \u202eevil", model_version="v\x1b[2J"))
    assert run_cli(["-p", "title\x1b]0;set title\x07\nsecond line"], cli_env).returncode == 0
    listing = run_cli(["history"], cli_env).stdout.splitlines()
    assert len(listing) == 2 and listing[1].endswith("  title␛]0;set title␇")
    conversation_id = listing[1].split()[0]

    for command in (["show", conversation_id], ["export", conversation_id]):
        markdown = run_cli(["history", *command], cli_env).stdout
        assert not RAW_CONTROLS.search(markdown)
        assert "reply ␛]52;c;QQ==␇ ⟨U+202E⟩evil" in markdown and "## Gemini (v␛[2J" in markdown

    exported = run_cli(["history", "export", conversation_id, "--format", "json"], cli_env).stdout
    assert not RAW_CONTROLS.search(exported.replace("\n", ""))  # JSON escapes every control...
    document = json.loads(exported)
    texts = [message["text"] for message in document["messages"]]
    assert texts[1] == "reply " + CLIPBOARD_WRITE + " \u202eevil"  # ...and stays lossless

    found = run_cli(["history", "search", "reply"], cli_env).stdout.splitlines()
    assert len(found) == 2 and not RAW_CONTROLS.search("".join(found))
