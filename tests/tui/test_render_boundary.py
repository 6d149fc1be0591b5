"""Hostile server strings in the TUI: what the terminal is actually sent for the screen holds no escape
sequence or bidi control from them, and each one-line place shows one bounded line."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console
from textual.app import App, ComposeResult
from textual.widgets import Markdown, OptionList

from flashchat.core.conversation import Message, ToolCall
from flashchat.testing.fake_gemini import DEFAULT_MODELS, FakeGemini, Reply
from flashchat.tui.screens.picker_screen import PickerScreen
from flashchat.tui.segments import split_segments
from flashchat.tui.widgets.error_notice import ErrorNotice
from flashchat.tui.widgets.history_sidebar import HistoryEntry, HistorySidebar
from flashchat.tui.widgets.path_suggestions import PathSuggestions
from flashchat.tui.widgets.reply_view import ReplyView
from flashchat.tui.widgets.sources_block import SourcesBlock
from flashchat.tui.widgets.status_bar import StatusBar
from flashchat.tui.widgets.tool_call_notice import ToolCallNotice

from .pilot_helpers import send, wait_for_reply, wait_until

CLIPBOARD_WRITE = "\x1b]52;c;QQ==\x07"
CLEAR_SCREEN = "\x1b[2J"
SET_TITLE = "\x1b]0;pwned\x07"
HOSTILE = CLIPBOARD_WRITE + CLEAR_SCREEN + SET_TITLE + "\u202e\u2066\x9b"
# What must never reach the terminal from those strings (the SGR and cursor moves Textual sends are its own).
NEVER_SENT = ("\x1b]52", "\x1b[2J", "\x1b]0;", "\u202e", "\u2066", "\x9b")


def terminal_output(app: App) -> str:
    """What the terminal is sent to paint the current screen: the compositor's full update, as the driver
    writes it (a Label's Content is not sanitised by Textual: an ESC in it goes out raw)."""
    update = app.screen._compositor.render_update(full=True)
    out = io.StringIO()
    Console(file=out, force_terminal=True, color_system="truecolor", width=app.size.width).print(update, end="")
    return out.getvalue()


def assert_nothing_hostile_sent(app: App) -> None:
    sent = terminal_output(app)
    assert not [sequence for sequence in NEVER_SENT if sequence in sent]
    assert "␛]52;c;QQ==␇" in sent  # shown, as visible symbols


async def test_an_html_error_page_is_one_bounded_line(fake: FakeGemini, make_app) -> None:
    page = "<html>\n<head><title>400 Bad Request" + HOSTILE + "</title></head>\n<body>" + HOSTILE + "x" * 100_000
    response = {"status": 400, "headers": {"content-type": "text/html"}, "body_text": page}
    fake.enqueue(Reply.replay({"response": response}))
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await send(pilot, "hi")
        await wait_for_reply(pilot)
        shown = str(app.query_one(ErrorNotice).render())
        assert "\n" not in shown and len(shown) < 2_100
        # The page is reduced to its title (the markup and the 100 KB after it are no message), shown safely.
        assert shown.startswith("The API rejected the request (400 Bad Request): an HTML page (400 Bad Request␛]52;c;")
        assert shown.endswith("), not an API response.")
        assert_nothing_hostile_sent(app)


async def test_hostile_model_names_in_the_picker_and_the_status_bar(fake: FakeGemini, make_app) -> None:
    hostile = DEFAULT_MODELS[0] | {"name": "models/evil" + CLIPBOARD_WRITE, "displayName": "Evil\n" + HOSTILE}
    fake.models = [hostile, *DEFAULT_MODELS[1:]]
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        app.action_pick_model()
        await wait_until(pilot, lambda: any(options.option_count for options in app.screen.query(OptionList)))
        first = str(app.screen.query_one(OptionList).get_option_at_index(0).prompt)
        assert first.startswith("1  evil␛]52;c;QQ==␇  Evil ␛]52;c;QQ==␇␛[2J␛]0;pwned␇⟨U+202E⟩⟨U+2066⟩\\x9b")
        assert_nothing_hostile_sent(app)
        await pilot.press("1")
        await wait_until(pilot, lambda: not isinstance(app.screen, PickerScreen))
        # A name with escapes is no model name: choosing it is refused (a toast), the model stays.
        assert str(app.query_one("#status-model").render()) == "gemini-3.5-flash"
        assert any("is not allowed" in note.message for note in app._notifications)
        assert not [sequence for sequence in NEVER_SENT if sequence in terminal_output(app)]


async def test_a_hostile_tool_call_in_the_approval_dialog_and_the_notice(
    fake: FakeGemini, make_app, workdir: Path
) -> None:
    from flashchat.tui.screens.tool_approval_screen import ToolApprovalScreen

    fake.enqueue(
        Reply.function_calls([("read_file", {"path": "x" + HOSTILE + "\n" + "a" * 5_000})]), Reply.text("done")
    )
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("f7")
        await pilot.pause()
        await pilot.press("4")  # local tools on
        await send(pilot, "read it")
        await wait_until(pilot, lambda: isinstance(app.screen, ToolApprovalScreen))
        assert not [s for s in NEVER_SENT if s in terminal_output(app)]
        await pilot.press("d")
        await wait_for_reply(pilot)
        (notice,) = app.query(ToolCallNotice)
        shown = str(notice.render())
        assert shown.startswith("⚙ read_file(path='x\\x1b]52;c;QQ==\\x07") and shown.endswith(" · denied")
        assert "\n" not in shown and len(shown) < 200


class Widgets(App):
    """Each widget that shows server strings, fed hostile ones directly."""

    def compose(self) -> ComposeResult:
        yield StatusBar(level="medium", model="gemini" + HOSTILE, endpoint="end\npoint")
        yield ToolCallNotice(ToolCall("read_file", {"path": HOSTILE}))
        yield ErrorNotice("error\n" + HOSTILE)
        yield ReplyView(
            model="m",
            thinking_level="low",
            message=Message("model", "text " + HOSTILE, model_version="v" + HOSTILE, thinking_level="low"),
        )
        yield HistorySidebar(id="history")
        yield PathSuggestions(id="paths")


async def test_each_widget_shows_server_strings_safely() -> None:
    app = Widgets()
    async with app.run_test(size=(200, 60)) as pilot:
        app.query_one(HistorySidebar).show_entries(
            [HistoryEntry("abc", "title\n" + HOSTILE, "snippet " + HOSTILE)], empty_text=""
        )
        app.query_one(PathSuggestions).show_paths(["dir/evil" + CLIPBOARD_WRITE + "\nname.py"])
        app.query_one(ToolCallNotice).show_outcome({"error": "no such file: " + HOSTILE + "\n" + "z" * 2_000}, True)
        await pilot.pause()
        assert_nothing_hostile_sent(app)
        assert str(app.query_one("#status-endpoint").render()) == "end point"
        assert str(app.query_one(ErrorNotice).render()).startswith("error ␛]52;c;QQ==␇")
        outcome = str(app.query_one(ToolCallNotice).render())
        assert "· error: no such file: ␛]52;c;QQ==␇" in outcome and outcome.endswith("more characters)")
        header = str(app.query_one(".reply-header").render())
        assert header.startswith("v␛]52;c;QQ==␇") and header.endswith(" · thinking low")
        path = str(app.query_one(PathSuggestions).get_option_at_index(0).prompt)
        assert path == "dir/evil␛]52;c;QQ==␇ name.py"
        assert app.query_one(PathSuggestions).chosen == "dir/evil" + CLIPBOARD_WRITE + "\nname.py"  # the real name


class Sources(App):
    def __init__(self, markdown: str) -> None:
        super().__init__()
        self.markdown = markdown
        self.opened: list[str] = []

    def compose(self) -> ComposeResult:
        yield SourcesBlock(self.markdown)

    def open_url(self, url: str, *, new_tab: bool = True) -> None:
        self.opened.append(url)


async def test_a_click_opens_only_http_links() -> None:
    app = Sources("1. [ok](https://example.com)\n2. [evil](javascript:alert(1))\n3. [file](file:///etc/passwd)")
    async with app.run_test() as pilot:
        block = app.query_one(SourcesBlock)
        for href in ("https://example.com", "javascript:alert(1)", "file:///etc/passwd"):
            block.post_message(Markdown.LinkClicked(block, href))
        await pilot.pause()
        assert app.opened == ["https://example.com"]


def test_reply_segments_use_the_shared_fence_tracker() -> None:
    fenced = "````\n```\n\nstill code\n\n```\n````\n"
    parts = split_segments("intro\n\n" + fenced + "\nafter\n", segment_chars=1)
    assert parts == ["intro\n\n", fenced + "\n", "after\n"]


async def test_toasts_and_the_header_title_pass_the_render_boundary(make_app) -> None:
    """Whoever calls notify, and whatever a conversation's title holds: one bounded line, no markup, nothing raw."""
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        app.notify(f"[bold]server said[/bold] {HOSTILE}" + "y" * 10_000, severity="error")
        app.sub_title = "Title " + HOSTILE
        await pilot.pause()
        (toast,) = app._notifications
        assert toast.message.startswith("[bold]server said[/bold] ␛]52;c;QQ==␇") and not toast.markup
        assert toast.message.endswith("more characters)") and "\n" not in toast.message
        assert_nothing_hostile_sent(app)


async def test_a_crlf_split_over_two_chunks_is_a_clean_newline(fake: FakeGemini, make_app) -> None:
    """The same stream the plain-mode and one-shot tests use: on screen, two lines and no ␍."""
    fake.enqueue(Reply.text("", chunks=["line one\r", "\n\r", "\nline two\r", "\n"]))
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await send(pilot, "hi")
        await wait_for_reply(pilot)
        sent = terminal_output(app)
        assert "line one" in sent and "line two" in sent and "␍" not in sent
