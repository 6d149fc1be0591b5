"""Server strings built into what the front ends print: sources, tool calls, transcripts, the usage line, and
streamed text split at awkward places."""

from __future__ import annotations

import io
import re

from rich.console import Console
from rich.markdown import Markdown

from flashchat.core.conversation import Conversation, Message, ToolCall, Usage
from flashchat.render.safe_text import NAME_CHARS
from flashchat.render.sources import link_target, markdown_text, sources_markdown
from flashchat.render.terminal_output import MarkdownOutput, PlainOutput, usage_line
from flashchat.render.transcript import conversation_markdown

RAW_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


class TerminalBuffer(io.StringIO):
    """What a terminal would receive: a text stream that says it is a tty."""

    def isatty(self) -> bool:
        return True


def grounding(chunks: list[dict], queries: list[str] | None = None) -> dict:
    return {"grounding": {"grounding_chunks": chunks, "web_search_queries": queries or []}}


def rendered(markdown: str) -> str:
    """The Markdown as rich prints it to a terminal (links become OSC 8 hyperlinks there)."""
    out = TerminalBuffer()
    Console(file=out, force_terminal=True, width=200, color_system=None).print(Markdown(markdown))
    return out.getvalue()


def test_a_title_cannot_make_a_link_or_a_code_span() -> None:
    sources = sources_markdown(
        grounding(
            [{"web": {"title": "[click me](javascript:alert(1)) `rm -rf` <b>hi</b>", "uri": "https://a.example/"}}]
        )
    )
    assert sources == (
        "Sources:\n\n1. [\\[click me\\]\\(javascript:alert\\(1\\)\\) \\`rm -rf\\` \\<b\\>hi\\</b\\>](https://a.example/)"
    )
    screen = rendered(sources)
    assert "[click me](javascript:alert(1)) `rm -rf` <b>hi</b>" in screen  # shown literally
    assert "javascript:" not in "".join(re.findall(r"\x1b]8;[^;]*;([^\x1b]*)", screen))  # and never a link target


def test_only_http_addresses_become_links() -> None:
    sources = sources_markdown(
        grounding(
            [
                {"web": {"title": "evil", "uri": "javascript:alert(document.cookie)"}},
                {"web": {"title": "local", "uri": "file:///etc/passwd"}},
                {"web": {"uri": "data:text/html,<script>x</script>"}},
                {"web": {"title": "fine", "uri": "https://example.com/a b)(c"}},
            ]
        )
    )
    lines = sources.splitlines()[2:]
    assert lines == [
        "1. evil (javascript:alert\\(document.cookie\\))",
        "2. local (file:///etc/passwd)",
        "3. data:text/html,\\<script\\>x\\</script\\>",
        "4. [fine](https://example.com/a%20b%29%28c)",
    ]
    assert link_target("HTTPS://Example.com") == "HTTPS://Example.com"
    assert link_target("https://") is None and link_target("https://x.example/" + "a" * 3000) is None


def test_titles_and_queries_are_one_bounded_safe_line() -> None:
    sources = sources_markdown(
        grounding(
            [{"web": {"title": "Tokyo\n\n# Heading\x1b]52;c;QQ==\x07\u202e" + "x" * 5000, "uri": "https://t.example"}}],
            queries=["weather\x1b[2J\nnow", "y" * 1000],
        )
    )
    assert not RAW_CONTROLS.search(sources)
    first, queries = sources.splitlines()[2], sources.splitlines()[-1]
    assert first.startswith("1. [Tokyo # Heading␛\\]52;c;QQ==␇⟨U+202E⟩xxx")
    assert first.endswith("xxx… \\(4,915 more characters\\)](https://t.example)")
    assert queries.startswith("Searched for: “weather␛\\[2J now”, “yyy")
    assert len(queries) < 2 * NAME_CHARS + 100


def test_normal_sources_read_as_before() -> None:
    sources = sources_markdown(
        grounding(
            [{"web": {"title": "weather.com", "uri": "https://weather.com/tokyo"}}, {"web": {"title": "Q&A | Site"}}],
            queries=["weather in Tokyo today"],
        )
    )
    assert sources.splitlines() == [
        "Sources:",
        "",
        "1. [weather.com](https://weather.com/tokyo)",
        "2. Q&A | Site",
        "",
        "Searched for: “weather in Tokyo today”",
    ]
    assert markdown_text("AT&amp;T") == "AT\\&amp;T"


def test_tool_call_descriptions_bound_and_escape_what_the_model_chose() -> None:
    call = ToolCall("read_file", {"path": "/tmp/" + "a" * 10_000, "mode\x1b[2J": "x\u202ey\n"})
    described = call.describe()
    assert not RAW_CONTROLS.search(described) and "\n" not in described
    assert described.startswith("read_file(path='/tmp/aaaa")
    assert "… (9,927 more characters)" in described
    assert described.endswith(", 'mode\\x1b[2J'='x\\u202ey\\n')")
    assert ToolCall("read_file", {"path": "app.py"}).describe() == "read_file(path='app.py')"
    assert ToolCall("evil\x1b]0;x\x07", {}).describe() == "'evil\\x1b]0;x\\x07'()"


def test_the_usage_line_bounds_the_model_version() -> None:
    message = Message("model", "hi", model_version="gemini\x1b]0;pwned\x07" + "-x" * 500, thinking_level="low")
    line = usage_line(Usage(prompt=1, output=2, total=3), message)
    assert not RAW_CONTROLS.search(line) and "gemini␛]0;pwned␇-x-x" in line and "more characters), thinking low" in line


def test_the_markdown_transcript_holds_no_control_sequences() -> None:
    conversation = Conversation(id="abc123", title="evil\x1b]0;title\x07\ntitle", model="gemini-3.5-flash")
    conversation.messages = [
        Message("user", "hi \x1b[31mred\x1b[0m"),
        Message(
            "model",
            "reply\x1b]52;c;QQ==\x07 with \u202e and\r\nCRLF",
            thoughts="thinking \x9b2J",
            model_version="v\x1b[2J",
            error="boom\x1b[5m\nsecond line",
        ),
    ]
    markdown = conversation_markdown(conversation)
    assert not RAW_CONTROLS.search(markdown)
    assert markdown.startswith("# evil␛]0;title␇ title\n")
    assert "## Gemini (v␛[2J)" in markdown
    assert "hi ␛[31mred␛[0m" in markdown and "reply␛]52;c;QQ==␇ with ⟨U+202E⟩ and\nCRLF" in markdown
    assert "> thinking \\x9b2J" in markdown and "*boom␛[5m second line*" in markdown


def test_a_crlf_split_over_two_chunks_is_a_newline_on_a_terminal() -> None:
    terminal = TerminalBuffer()
    output = PlainOutput(terminal, terminal)
    output.thought("thinking\r")
    output.thought("\ndone")
    for chunk in ["line one\r", "\n", "line two\r", "\nend\r"]:
        output.text(chunk)
    output.close()
    assert terminal.getvalue() == "thinking\ndone\nline one\nline two\nend␍\n"


def test_a_pipe_gets_the_text_byte_for_byte() -> None:
    pipe, errors = io.StringIO(), io.StringIO()
    output = PlainOutput(pipe, errors)
    output.thought("\x1b[2Jthought\r")
    for chunk in ["line one\r", "\n", "\x1b[2Jline two\r"]:
        output.text(chunk)
    output.close()
    assert pipe.getvalue() == "line one\r\n\x1b[2Jline two\r\n"
    assert errors.getvalue() == "␛[2Jthought␍\n"  # thoughts are never the reply: on stderr they are made safe


def test_markdown_output_joins_a_split_crlf() -> None:
    terminal = TerminalBuffer()
    output = MarkdownOutput(terminal, force_terminal=True)
    output.thought("plan\r")
    output.thought("\nmore")
    for chunk in ["# Title\r", "\n\r", "\nline one\r", "\n\r", "\nline two"]:
        output.text(chunk)
    output.close()
    screen = re.sub(r"\x1b\[[0-9;]*m", "", terminal.getvalue())  # without the styles
    assert "␍" not in screen
    assert "plan\nmore" in screen and "Title" in screen and "line one" in screen and "line two" in screen
