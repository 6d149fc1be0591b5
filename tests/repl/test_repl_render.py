"""`flashchat --plain` on a terminal: streamed text split at awkward places, and hostile server strings that
reach the REPL through render/ (sources, tool call descriptions)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from flashchat.config.settings import Settings
from flashchat.testing.fake_gemini import FakeGemini, Reply
from repl_driver import ENTER, ReplDriver

RAW_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


class TerminalBuffer(io.StringIO):
    """The REPL's stdout as a terminal: it says it is a tty, so output is neutralised as on a real one."""

    def isatty(self) -> bool:
        return True


async def started_on_a_terminal(settings: Settings, tmp_path: Path, *, colour: bool) -> ReplDriver:
    driver = ReplDriver(settings, tmp_path, colour=colour)
    driver.stdout = driver.repl.stdout = TerminalBuffer()
    await driver.start()
    return driver


async def test_a_crlf_split_over_two_chunks_prints_a_clean_newline(
    fake: FakeGemini, settings: Settings, tmp_path: Path
) -> None:
    fake.enqueue(Reply.text("", chunks=["line one\r", "\nline two\r", "\n\x1b[2Jend"]))
    driver = await started_on_a_terminal(settings, tmp_path, colour=False)
    driver.type("hi" + ENTER)
    output = await driver.wait_for_output("end\n")
    assert await driver.quit() == 0
    assert "line one\nline two\n␛[2Jend\n" in output and "␍" not in output


async def test_rendered_markdown_joins_a_split_crlf_too(fake: FakeGemini, settings: Settings, tmp_path: Path) -> None:
    fake.enqueue(Reply.text("", chunks=["# Heading\r", "\n\r", "\nline one\r", "\n\r", "\nline two"]))
    driver = await started_on_a_terminal(settings, tmp_path, colour=True)
    driver.type("hi" + ENTER)
    output = await driver.wait_for_output("line two")
    await driver.quit()
    assert "␍" not in output and "Heading" in output and "# Heading" not in output


@pytest.mark.parametrize("colour", [False, True])
async def test_hostile_sources_are_inert(fake: FakeGemini, settings: Settings, tmp_path: Path, colour: bool) -> None:
    grounding = {
        "webSearchQueries": ["q\x1b[2J"],
        "groundingChunks": [
            {"web": {"title": "[x](javascript:alert(1))\x1b]52;c;QQ==\x07", "uri": "javascript:alert(1)"}},
            {"web": {"title": "ok\u202elive", "uri": "file:///etc/passwd"}},
        ],
    }
    content = {"role": "model", "parts": [{"text": "Cloudy."}]}
    fake.enqueue(
        Reply.events([{"candidates": [{"content": content, "finishReason": "STOP", "groundingMetadata": grounding}]}])
    )
    driver = await started_on_a_terminal(settings, tmp_path, colour=colour)
    driver.type("/search on" + ENTER)
    driver.type("weather?" + ENTER)
    output = await driver.wait_for_output("Searched for")
    await driver.quit()
    visible = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", output)  # rich's own styling, when rendered
    assert not RAW_CONTROLS.search(visible.replace("\n", "").replace("\r", ""))
    assert "52;c;QQ==␇" in visible and "ok⟨U+202E⟩live" in visible
    assert "\x1b]8;" not in output  # no hyperlink at all: neither address is http(s)


async def test_a_tool_call_with_a_hostile_argument_is_one_escaped_line(
    fake: FakeGemini, settings: Settings, workdir: Path
) -> None:
    fake.enqueue(
        Reply.function_calls([("read_file", {"path": "x\x1b]52;c;QQ==\x07\n" + "a" * 3_000})]), Reply.text("done")
    )
    driver = await started_on_a_terminal(settings, workdir, colour=False)
    driver.type("/tools on" + ENTER)
    driver.type("read" + ENTER)
    output = await driver.wait_for_output("tool call: ")
    driver.type("d" + ENTER)
    await driver.wait_for_output("done")
    await driver.quit()
    line = next(line for line in output.splitlines() if line.startswith("tool call: "))
    assert line.startswith("tool call: read_file(path='x\\x1b]52;c;QQ==\\x07\\naaa")
    assert line.endswith("… (2,943 more characters))") and not RAW_CONTROLS.search(line)
