"""The TUI's speed, against the fake Gemini server. Prints numbers; asserts nothing.

    python bench/tui.py [--only first-frame,full-speed,paced,pty,long-session,history] [--runs 5] [--paced-runs 3]

Measures
  first-frame  time from process start to the first painted frame: headless (tests/tui/first_frame_probe.py)
               and under a real pseudo-terminal (`flashchat` started on a pty, until the status bar shows),
               beside a bare Textual app (interleaved); then the CPU seconds of each started on a pty and ended
               at its first frame (robust under load), and with --callgrind their instruction counts.
  full-speed   a Markdown reply (prose, lists, tables, a 300-line code block) of 5k/10k/20k/40k tokens
               (--full-speed-tokens) streamed from the fake in 4-character chunks as fast as the client takes
               them, each size in its own process: wall time until fully rendered, CPU, peak RSS, and the cost
               per 1k tokens (linear: the same for every size); stock MarkdownStream into one plain Markdown
               widget at --tokens for comparison. Then the memory a finished --tokens reply keeps: RSS before
               the reply and after the idle collection, and the Python heap it keeps (tracemalloc).
  paced        the same reply at 400 and 2,000 tokens/s (--rate) in ~20-token chunks: delay from the fake's
               last byte to the last token on screen, CPU share of the UI thread, and keystroke echo latency
               while it streams.
  pty          the paced reply in flashchat on a real pseudo-terminal: bytes written to the terminal from Enter
               until the reply is on screen, and the process's own CPU seconds and peak RSS; interleaved with
               the same run writing whole frames as Textual does by itself (the "before" of TerminalDiff).
  first-token  in a warmed-up app (--runs fresh sessions of 4 messages, sent once the warm-up after the first
               frame is done): Enter -> the request at the fake, and the fake's first byte -> its text on
               screen, for the first message of a session and for the later ones apart.
  long-session 500 scripted turns in one TUI session (--turns), then idle: every 50 turns RSS, turns per second
               and CPU per turn (progress on stderr as it runs), keystroke echo at turn 1 and every 100, the
               turns the large-request dialog asked (past large_request_tokens; answered with Enter), RSS after
               the idle collection and the UI thread's idle CPU share.
  history      opening a stored 500 / 2,000 / 8,000-message conversation (--history-lengths) in a fresh process:
               seconds from the spawn to its first frame and to its last messages painted, and its own peak RSS;
               then PageUp from the end of the 2,000-message one to its start (load-earlier pulling in the older
               messages): time from each key to its frame (median, p95, max, keys over 16 ms).
Before measuring, the source tree is compiled to bytecode (an installed copy has it; see compile_sources).
The document is built here from a fixed seed: prose, lists, tables and a 300-line code block.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import pty
import random
import resource
import select
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

# isort: split
import flashchat.tui  # noqa: F401  (sets Textual's frame rate, which Textual reads when first imported)

# isort: split
from textual import events
from textual.app import App, ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Markdown

from flashchat.config.settings import Settings
from flashchat.core.conversation import Conversation, Message
from flashchat.core.session import ChatSession
from flashchat.testing.fake_gemini import FakeGemini, Reply
from flashchat.tui.app import FlashchatApp
from oneshot import environment  # bench/ is on sys.path when this runs as a script

ROOT = Path(__file__).resolve().parent.parent
PROBE = ROOT / "tests" / "tui" / "first_frame_probe.py"
CHARS_PER_TOKEN = 4
SIZE = (120, 40)
WORDS = (
    "the model stream token widget render layout parse block fence terminal async worker message screen scroll "
    "anchor update append latency frame buffer python textual markdown chunk response prompt context cache"
).split()


# --- the synthetic reply (same recipe as the notes' benchmark) -------------------------------------------


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(8, 18))]
    if rng.random() < 0.3:
        i = rng.randrange(len(words))
        words[i] = f"`{words[i]}()`"
    if rng.random() < 0.25:
        i = rng.randrange(len(words))
        words[i] = f"**{words[i]}**"
    text = " ".join(words)
    return text[0].upper() + text[1:] + "."


def _paragraph(rng: random.Random) -> str:
    return " ".join(_sentence(rng) for _ in range(rng.randint(3, 6))) + "\n\n"


def _bullets(rng: random.Random, ordered: bool) -> str:
    lines = [f"{f'{i + 1}.' if ordered else '-'} {_sentence(rng)}" for i in range(rng.randint(4, 8))]
    return "\n".join(lines) + "\n\n"


def _table(rng: random.Random) -> str:
    rows = ["| name | type | description |", "| --- | --- | --- |"]
    rows += [f"| `{rng.choice(WORDS)}` | {rng.choice(['str', 'int'])} | {_sentence(rng)} |" for _ in range(6)]
    return "\n".join(rows) + "\n\n"


def _python(rng: random.Random, lines: int) -> str:
    out = ["```python"]
    number = 0
    while len(out) <= lines:
        out += [
            f"def {rng.choice(WORDS)}_{number}(value: int, items: list[str] | None = None) -> dict[str, int]:",
            f'    """Compute the {rng.choice(WORDS)}."""',
            "    result: dict[str, int] = {}",
            "    for index, item in enumerate(items or []):",
            f"        result[item] = value * index + {rng.randint(1, 999)}",
            "    return result",
            "",
        ]
        number += 1
    return "\n".join([*out[: lines + 1], "```"]) + "\n\n"


def make_document(tokens: int, seed: int = 1234) -> str:
    rng = random.Random(seed)
    target = tokens * CHARS_PER_TOKEN
    parts = ["# Streaming benchmark answer\n\n", _paragraph(rng)]
    big_done = False
    section = 0
    while sum(map(len, parts)) < target:
        section += 1
        parts.append(f"## Section {section}: {rng.choice(WORDS)}\n\n")
        if not big_done and sum(map(len, parts)) >= target * 0.6:
            parts += [_paragraph(rng), _python(rng, 300)]
            big_done = True
            continue
        parts += [_paragraph(rng) for _ in range(rng.randint(1, 3))]
        choice = rng.random()
        if choice < 0.35:
            parts.append(_bullets(rng, ordered=False))
        elif choice < 0.5:
            parts.append(_bullets(rng, ordered=True))
        elif choice < 0.58:
            parts.append(_table(rng))
        if rng.random() < 0.45:
            parts.append(_python(rng, rng.randint(8, 30)))
    return "".join(parts)[:target]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def settings_for(fake: FakeGemini) -> Settings:
    return Settings(api_key=fake.api_key, base_url=fake.url, first_token_timeout=60, idle_timeout=60)


# --- first frame ---------------------------------------------------------------------------------------


def compile_sources() -> None:
    """Let the measured processes import flashchat from cached bytecode, as an installed copy does. With
    PYTHONDONTWRITEBYTECODE=1 in the environment (this machine's sessions set it) the editable source tree
    never gets its __pycache__, and every start compiled about 100 modules from source: 0.4 billion
    instructions, a third of a bare Textual app's whole start (valgrind --tool=callgrind)."""
    import compileall

    compileall.compile_dir(ROOT / "src", quiet=1)


def first_frame_headless(runs: int, home: str) -> list[float]:
    times = []
    for _ in range(runs):
        spawned = time.monotonic()
        out = subprocess.run(
            [sys.executable, str(PROBE), f"{home}/config.toml"], capture_output=True, text=True, check=True
        ).stdout
        report = json.loads(out.strip().splitlines()[-1])
        times.append(report["first_frame_monotonic"] - spawned)
    return times


def first_frame_on_pty(argv: list[str], env: dict[str, str], ready: bytes) -> float | None:
    """Seconds from fork to `ready` in what the program wrote to a 120x40 pty; then Ctrl+Q."""
    import fcntl
    import struct
    import termios

    spawned = time.monotonic()
    pid, master = pty.fork()
    if pid == 0:
        os.execvpe(argv[0], argv, env)
    fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", SIZE[1], SIZE[0], 0, 0))
    seen = b""
    shown = None
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        ready_fds, _, _ = select.select([master], [], [], 0.05)
        if ready_fds:
            try:
                seen += os.read(master, 65536)
            except OSError:
                break
            if shown is None and ready in seen:
                shown = time.monotonic() - spawned
                os.write(master, b"\x11")  # ctrl+q
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)
    os.close(master)
    return shown


# The bare app's first frame shows its Input's placeholder, "bare textual ready", with the focused Input's cursor
# drawn over its first letter: "b" and "are textual ready" are written with different colours, so the whole
# phrase first appears when the cursor blinks off, half a second to a second later. Waiting for it made the bare
# app's first frame look like 1.2-1.5 s; the text after the cursor is in that first frame.
BARE_TEXTUAL_READY = b"are textual ready"

# Runs the program named after it (-m MODULE or -c CODE, then its arguments) and ends the process with os._exit
# once its first frame is written: the CPU seconds (and callgrind's instruction count) of a process that starts,
# paints and stops, without the seconds it spends idle before the pty's Ctrl+Q arrives or shutting down.
EXIT_AT_FIRST_FRAME = r"""
import os, runpy, sys
import flashchat.tui  # as flashchat itself does, before Textual is imported (it sets the frame rate)
from textual.app import App
original_display = App._display
def display(self, screen, renderable):
    original_display(self, screen, renderable)
    if renderable is not None:
        os._exit(0)
App._display = display
mode, target, *rest = sys.argv[1:]
sys.argv = [target, *rest]
if mode == "-m":
    runpy.run_module(target, run_name="__main__", alter_sys=True)
else:
    exec(compile(target, "<string>", "exec"), {"__name__": "__main__"})
"""


def first_frame_clients(fake: FakeGemini) -> dict[str, tuple[list[str], bytes]]:
    """flashchat (`python -m flashchat`, until the status bar shows) and the bare Textual app of bench/compare.py
    (a Markdown widget and an Input, until the Input's placeholder shows): each command and what marks its
    first frame."""
    from compare import BARE_TEXTUAL

    return {
        "flashchat": (["-m", "flashchat"], b"thinking"),
        "bare_textual": (["-c", BARE_TEXTUAL, fake.url, fake.api_key], BARE_TEXTUAL_READY),
    }


def pty_environment(fake: FakeGemini, home: str) -> dict[str, str]:
    env = environment(fake, home)
    env.update(TERM="xterm-256color", COLUMNS=str(SIZE[0]), LINES=str(SIZE[1]))
    return env


def first_frame_pty(runs: int, fake: FakeGemini, home: str) -> dict[str, list[float]]:
    """flashchat and, interleaved run by run, the bare Textual app (first_frame_clients): seconds from the
    fork to the first frame on a pty."""
    env = pty_environment(fake, home)
    clients = first_frame_clients(fake)
    times: dict[str, list[float]] = {name: [] for name in clients}
    for _ in range(runs):
        for name, (args, ready) in clients.items():
            if (shown := first_frame_on_pty([sys.executable, *args], env, ready)) is not None:
                times[name].append(shown)
    return times


def run_on_pty_until_exit(argv: list[str], env: dict[str, str]) -> float:
    """Run `argv` on a 120x40 pty until it exits; its CPU seconds (user + system)."""
    import fcntl
    import struct
    import termios

    pid, master = pty.fork()
    if pid == 0:
        os.execvpe(argv[0], argv, env)
    fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", SIZE[1], SIZE[0], 0, 0))
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if select.select([master], [], [], 0.1)[0]:
            try:
                if not os.read(master, 65536):
                    break
            except OSError:
                break
    _, _, usage = os.wait4(pid, 0)
    os.close(master)
    return usage.ru_utime + usage.ru_stime


def first_frame_cpu(runs: int, fake: FakeGemini, home: str) -> dict[str, list[float]]:
    """CPU seconds of each client (first_frame_clients) started on a pty and ended at its first frame,
    interleaved run by run: unlike wall time, hardly moved by what else the machine runs."""
    env = pty_environment(fake, home)
    cpu: dict[str, list[float]] = {name: [] for name in first_frame_clients(fake)}
    for _ in range(runs):
        for name, (args, _) in first_frame_clients(fake).items():
            cpu[name].append(run_on_pty_until_exit([sys.executable, "-c", EXIT_AT_FIRST_FRAME, *args], env))
    return cpu


def first_frame_instructions(fake: FakeGemini, home: str) -> dict[str, float]:
    """Billions of instructions (valgrind --tool=callgrind) each client runs from exec to its first frame: the
    same figure run after run, whatever the load. About a minute."""
    import re

    env = pty_environment(fake, home)
    counts = {}
    for name, (args, _) in first_frame_clients(fake).items():
        out = f"{home}/{name}.callgrind"
        valgrind = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"]
        run_on_pty_until_exit([*valgrind, sys.executable, "-c", EXIT_AT_FIRST_FRAME, *args], env)
        total = re.search(r"^(?:summary|totals): (\d+)", Path(out).read_text(), re.MULTILINE)
        counts[name] = round(int(total[1]) / 1e9, 3) if total else float("nan")
    return counts


def spread(values: list[float]) -> dict[str, object]:
    return {
        "median": round(statistics.median(values), 3),
        "min": round(min(values), 3),
        "max": round(max(values), 3),
        "runs": [round(value, 3) for value in values],
    }


# --- streaming -----------------------------------------------------------------------------------------


class BaselineApp(App):
    CSS = "#chat { height: 1fr; }"

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="chat"):
            yield Markdown(id="md")


async def baseline_full_speed(fake: FakeGemini, document: str) -> float:
    fake.enqueue(Reply.text(document, chunk_chars=4))
    app = BaselineApp()
    session = ChatSession(settings_for(fake))
    async with app.run_test(size=SIZE) as pilot:
        markdown = app.query_one("#md", Markdown)
        app.query_one("#chat", VerticalScroll).anchor()
        await pilot.pause()
        started = time.perf_counter()
        stream = Markdown.get_stream(markdown)
        async with contextlib.aclosing(session.send("go")) as replies:
            async for event in replies:
                if hasattr(event, "text") and type(event).__name__ == "TextDelta":
                    await stream.write(event.text)
        await stream.stop()
        await pilot.pause()
        elapsed = time.perf_counter() - started
        assert markdown.source == document
    await session.aclose()
    return elapsed


async def flashchat_full_speed(fake: FakeGemini, document: str, *, heap: bool = False) -> dict[str, float]:
    """The reply at full speed: render time, the process's CPU for it, and what memory it leaves behind.

    RSS is read before the reply (after a short first reply) and after the idle full collection
    (tui/quiet_gc.py runs it after 2 s of idling). With `heap`, tracemalloc also counts the Python heap the
    finished reply keeps (it slows the run, so its times are not reported).
    """
    import gc
    import tracemalloc

    # A short reply first, so the provider's import and first request are not counted as the long reply's.
    fake.enqueue(Reply.text("A **short** reply first.", chunk_chars=4))
    fake.enqueue(Reply.text(document, chunk_chars=4))
    app = FlashchatApp(settings_for(fake), config_path=Path(tempfile.mkdtemp()) / "c.toml", warm_up=False)
    report: dict[str, float] = {}
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.composer.load_text("warm up")
        await pilot.press("enter")
        while app.replying:
            await asyncio.sleep(0.01)
        await pilot.pause(3.0)
        app.composer.load_text("go")
        await pilot.pause()
        gc.collect()
        report["rss_before_mb"] = _rss_now_mb()
        if heap:
            tracemalloc.start()
        heap_before = tracemalloc.get_traced_memory()[0] if heap else 0
        started, cpu_started = time.perf_counter(), time.process_time()
        await pilot.press("enter")
        while app.replying:
            await asyncio.sleep(0.01)
        await pilot.pause()
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        assert app.session.conversation.messages[-1].text == document
        await pilot.pause(3.0)  # idle: the postponed full collection runs
        gc.collect()
        report["rss_after_idle_mb"] = _rss_now_mb()
        if heap:
            report["heap_kept_mb"] = round((tracemalloc.get_traced_memory()[0] - heap_before) / 1e6, 2)
            report["heap_kept_per_text_byte"] = round(report["heap_kept_mb"] * 1e6 / len(document), 1)
            tracemalloc.stop()
        else:
            report["render_s"] = round(elapsed, 2)
            report["cpu_s"] = round(cpu, 2)
    report["peak_rss_mb"] = own_peak_rss_mb()
    report["rss_kept_mb"] = round(report["rss_after_idle_mb"] - report["rss_before_mb"], 1)
    return report


def full_speed_child(tokens: int, heap: bool) -> None:
    """Runs in a fresh process, so its peak RSS belongs to this reply alone."""
    with tempfile.TemporaryDirectory() as home, FakeGemini() as fake:
        os.environ.update(XDG_CONFIG_HOME=f"{home}/config", XDG_DATA_HOME=f"{home}/data")
        report = asyncio.run(flashchat_full_speed(fake, make_document(tokens), heap=heap))
    print(json.dumps({"tokens": tokens, **report}))


def full_speed_in_children(tokens: list[int], heap: bool = False) -> list[dict[str, float]]:
    runs = []
    for count in tokens:
        command = [sys.executable, __file__, "--full-speed-child", str(count), *(["--heap"] if heap else [])]
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        runs.append(json.loads(out.strip().splitlines()[-1]))
    return runs


def linearity(runs: list[dict[str, float]]) -> dict[str, object]:
    """Per 1k tokens, and each size against the one half its size (linear: 2.0)."""
    by_tokens = {run["tokens"]: run for run in runs}
    per_1k = {
        int(tokens): {
            "render_s": round(run["render_s"] / tokens * 1000, 3),
            "peak_rss_mb_over_start": round((run["peak_rss_mb"] - run["rss_before_mb"]) / tokens * 1000, 2),
        }
        for tokens, run in by_tokens.items()
    }
    doubled = {
        f"{int(tokens)}/{int(tokens // 2)}": round(run["render_s"] / by_tokens[tokens // 2]["render_s"], 2)
        for tokens, run in by_tokens.items()
        if tokens // 2 in by_tokens
    }
    return {"per_1k_tokens": per_1k, "render_time_ratio": doubled}


def record_frames(frames: list[float]) -> Callable[[], None]:
    """Appends the time of each frame Textual writes to `frames`; call what it returns to stop."""
    original_display = App._display

    def display(self: App, screen, renderable) -> None:
        if renderable is not None:
            frames.append(time.perf_counter())
        original_display(self, screen, renderable)

    App._display = display  # type: ignore[method-assign]

    def stop() -> None:
        App._display = original_display  # type: ignore[method-assign]

    return stop


async def flashchat_paced(fake: FakeGemini, document: str, tokens_per_second: float) -> dict[str, float]:
    chunk_chars = 20 * CHARS_PER_TOKEN
    fake.enqueue(
        Reply.text(document, chunk_chars=chunk_chars, delay_s=chunk_chars / CHARS_PER_TOKEN / tokens_per_second)
    )
    app = FlashchatApp(settings_for(fake), config_path=Path(tempfile.mkdtemp()) / "c.toml", warm_up=False)
    frames: list[float] = []
    stop_recording = record_frames(frames)
    echoes: list[float] = []
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            app.composer.load_text("go")
            await pilot.press("enter")
            app.composer.load_text("")
            wall_started, cpu_started = time.perf_counter(), time.thread_time()
            typed = 0
            while app.replying:
                await asyncio.sleep(0.05)
                if not app.replying:
                    break
                typed += 1
                pressed = time.perf_counter()
                frames_before = len(frames)
                app.post_message(events.Key("x", "x"))
                while len(app.composer.text) < typed or len(frames) == frames_before:
                    await asyncio.sleep(0.001)
                echoes.append(frames[-1] - pressed)
            finished = time.perf_counter()
            await pilot.pause()
            shown = frames[-1]
            wall = time.perf_counter() - wall_started
            cpu = time.thread_time() - cpu_started
    finally:
        stop_recording()
    last_byte_monotonic = fake.stream_timings[-1][-1]
    # perf_counter and monotonic share a clock on Linux (CLOCK_MONOTONIC); convert through now.
    offset = time.monotonic() - time.perf_counter()
    return {
        "tokens_per_second": tokens_per_second,
        "last_byte_to_screen_s": round(max(shown, finished) + offset - last_byte_monotonic, 3),
        "ui_thread_cpu_share": round(cpu / wall, 3),
        "keystrokes": len(echoes),
        "echo_median_ms": round(statistics.median(echoes) * 1000, 1),
        "echo_p95_ms": round(percentile(echoes, 0.95) * 1000, 1),
        "echo_max_ms": round(max(echoes) * 1000, 1),
    }


# --- time to the first token ---------------------------------------------------------------------------


async def first_token_session(messages: int, server_latency: float) -> dict[str, list[float]]:
    """One app session (run in a fresh process by `first_token`): Enter -> the request at the fake, and the
    fake's first byte -> that text on screen (the first frame that shows it), for `messages` messages sent
    once the warm-up after the first frame has finished. `server_latency`: the fake waits this long before its
    first byte (the model's time to first token; 0 answers at once, while the app still mounts the turn)."""
    from flashchat.tui.widgets.reply_segment import ReplySegment
    from flashchat.tui.widgets.reply_view import ReplyView

    arrivals: list[float] = []

    def responder(request):
        arrivals.append(time.monotonic())
        return Reply.text("First words of the answer, then more.", chunk_chars=8, first_delay_s=server_latency)

    shown: list[float] = []
    original_display = App._display

    def display(self: App, screen, renderable) -> None:
        if renderable is not None and len(shown) < len(arrivals):
            # This turn's reply view (one per turn), not the last one on screen: that may be the previous reply.
            views = list(self.query(ReplyView))
            if len(views) > len(shown) and any(segment.source for segment in views[len(shown)].query(ReplySegment)):
                shown.append(time.monotonic())
        original_display(self, screen, renderable)

    App._display = display  # type: ignore[method-assign]
    # Client side, when the transport is handed the request (the fake's arrival also waits for its own threads,
    # which share this process's GIL with the app).
    import httpx2

    handed: list[float] = []
    original_handle = httpx2.AsyncHTTPTransport.handle_async_request

    async def handle(self, request):
        if ":streamGenerateContent" in str(request.url):
            handed.append(time.monotonic())
        return await original_handle(self, request)

    httpx2.AsyncHTTPTransport.handle_async_request = handle  # type: ignore[method-assign]
    to_request, to_transport, to_screen, warm_up = [], [], [], 0.0
    with FakeGemini() as fake:
        fake.responder = responder
        from flashchat.store.conversation_store import open_store

        # With the user's store, as `flashchat` runs (the user message is written before the request leaves).
        home = Path(tempfile.mkdtemp())
        app = FlashchatApp(
            settings_for(fake),
            config_path=home / "c.toml",
            open_store=lambda: open_store(home / "history.db"),
            warm_up=True,
        )
        async with app.run_test(size=SIZE) as pilot:
            started = time.monotonic()
            await pilot.pause(0.1)
            while any(worker.group == "warm-up" and not worker.is_finished for worker in app.workers):
                await asyncio.sleep(0.01)
            warm_up = time.monotonic() - started
            await pilot.pause(0.5)  # a user takes longer than this to type the first message
            for turn in range(messages):
                app.composer.load_text(f"question {turn}")
                pressed = time.monotonic()
                await pilot.press("enter")
                while len(shown) <= turn:
                    await asyncio.sleep(0.001)
                while app.replying:
                    await asyncio.sleep(0.005)
                to_request.append(arrivals[turn] - pressed)
                to_transport.append(handed[turn] - pressed)
                to_screen.append(shown[turn] - fake.stream_timings[-1][0])
                await pilot.pause(0.2)
    App._display = original_display  # type: ignore[method-assign]
    httpx2.AsyncHTTPTransport.handle_async_request = original_handle  # type: ignore[method-assign]
    return {"to_request": to_request, "to_transport": to_transport, "to_screen": to_screen, "warm_up": [warm_up]}


def first_token(sessions: int, messages: int = 4, server_latency: float = 0.0) -> dict[str, object]:
    """`sessions` fresh processes, `messages` messages each: the first message of each session reported
    apart from the later ones (the first used to pay the SDK's start: client, TLS context, request schemas)."""
    runs = []
    for _ in range(sessions):
        child = [sys.executable, __file__, "--first-token-child", str(messages)]
        child += ["--server-latency", str(server_latency)]
        out = subprocess.run(child, capture_output=True, text=True, check=True).stdout
        runs.append(json.loads(out.strip().splitlines()[-1]))
    keys = ("to_request", "to_transport", "to_screen")
    first = {key: [run[key][0] for run in runs] for key in keys}
    later = {key: [value for run in runs for value in run[key][1:]] for key in keys}

    def summary(values: list[float]) -> dict[str, float]:
        return {"median": round(statistics.median(values) * 1000, 1), "max": round(max(values) * 1000, 1)}

    return {
        "first_message": {
            "enter_to_transport_ms": summary(first["to_transport"]),
            "enter_to_request_ms": summary(first["to_request"]),
            "first_byte_to_screen_ms": summary(first["to_screen"]),
        },
        "later_messages": {
            "enter_to_transport_ms": summary(later["to_transport"]),
            "enter_to_request_ms": summary(later["to_request"]),
            "first_byte_to_screen_ms": summary(later["to_screen"]),
        },
        "warm_up_after_first_frame_ms": summary([run["warm_up"][0] for run in runs]),
        "sessions": sessions,
        "server_latency_s": server_latency,
        "load_average": os.getloadavg()[0],
    }


# --- a long session ------------------------------------------------------------------------------------


def _rss_now_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


async def _echo_ms(app: FlashchatApp, frames: list[float], keys: int = 15) -> float:
    """Median delay from a key press to the frame that shows it, with nothing streaming."""
    delays = []
    for _ in range(keys):
        typed = len(app.composer.text) + 1
        frames_before = len(frames)
        pressed = time.perf_counter()
        app.post_message(events.Key("x", "x"))
        while len(app.composer.text) < typed or len(frames) == frames_before:
            if time.perf_counter() - pressed > TURN_TIMEOUT_S:  # a dialog on top takes the keys: say so, never hang
                raise RuntimeError(f"a typed key never reached the composer (screens: {app.screen_stack})")
            await asyncio.sleep(0.001)
        delays.append(frames[-1] - pressed)
        await asyncio.sleep(0.02)
    app.composer.load_text("")
    return round(statistics.median(delays) * 1000, 1)


# A turn (a 400-token reply from the fake) takes well under a second; one that takes this long is stuck.
TURN_TIMEOUT_S = 60.0
LONG_SESSION_WINDOW = 50  # turns per line of progress (and per RSS sample)
LONG_SESSION_ECHO_EVERY = 100  # keystroke echo at turn 1 and every this many turns


async def _long_session_turn(app: FlashchatApp, pilot, fake: FakeGemini, turn: int) -> bool:
    """Send question `turn` and wait until its reply is in the conversation; True when the large-request dialog
    asked first (answered with Enter, as a user who goes on does).

    Past `large_request_tokens` (100,000 by default: turn ~250 here) every send asks first. The loop used to
    wait only for `app.replying`, which the dialog never sets: the next turn's Enter answered the dialog, every
    other turn was lost, and at an even last turn the echo probe typed into the dialog forever.
    """
    from flashchat.tui.screens.cost_estimate_screen import CostEstimateScreen

    messages = app.session.conversation.messages
    expected = len(messages) + 2  # the question and its reply
    fake.enqueue(Reply.text(make_document(400, seed=turn), chunk_chars=80))
    app.composer.load_text(f"question {turn}")
    await pilot.press("enter")
    asked = False
    deadline = time.perf_counter() + TURN_TIMEOUT_S
    while app.replying or len(messages) < expected:
        if isinstance(app.screen, CostEstimateScreen):
            asked = True
            await pilot.press("enter")
        if time.perf_counter() > deadline:
            raise RuntimeError(
                f"turn {turn} not finished after {TURN_TIMEOUT_S:g} s: {len(messages)} messages of {expected}, "
                f"replying={app.replying}, screens {app.screen_stack}"
            )
        await asyncio.sleep(0.005)
    return asked


async def long_session(fake: FakeGemini, turns: int) -> dict[str, object]:
    """`turns` scripted turns in one TUI session (a 400-token Markdown reply each), then idle.

    Reports, every LONG_SESSION_WINDOW turns: RSS, turns per second, and CPU per turn (the UI thread's own, and
    the whole process's: the fake and the store's writer run in threads of this one); keystroke echo at the
    first turn and every LONG_SESSION_ECHO_EVERY turns; how many turns the large-request dialog asked; and the
    UI thread's CPU share over 5 s of idling at the end. Progress goes to stderr as it happens.
    """
    app = FlashchatApp(settings_for(fake), config_path=Path(tempfile.mkdtemp()) / "c.toml", warm_up=False)
    frames: list[float] = []
    stop_recording = record_frames(frames)
    rss: dict[int, float] = {}
    echo: dict[int, float] = {}
    windows: list[dict[str, float]] = []
    asked = 0
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            mark = (time.perf_counter(), time.thread_time(), time.process_time())
            for turn in range(1, turns + 1):
                asked += await _long_session_turn(app, pilot, fake, turn)
                # The fake runs in this process and records every request, each carrying the whole history so
                # far: 500 turns of them are ~0.4 GB of the bench's own, not the app's. Nothing is in flight now.
                fake.requests.clear()
                fake.stream_timings.clear()
                if turn == 1 or turn % LONG_SESSION_WINDOW == 0 or turn == turns:
                    rss[turn] = _rss_now_mb()
                if turn % LONG_SESSION_WINDOW == 0 or turn == turns:
                    # Before the echo probe, so its pauses are not in the per-turn figures.
                    now = (time.perf_counter(), time.thread_time(), time.process_time())
                    done = turn - (windows[-1]["to_turn"] if windows else 0)
                    window = {
                        "to_turn": turn,
                        "turns_per_s": round(done / (now[0] - mark[0]), 2),
                        "ui_thread_cpu_ms_per_turn": round((now[1] - mark[1]) / done * 1000, 1),
                        "process_cpu_ms_per_turn": round((now[2] - mark[2]) / done * 1000, 1),
                        "rss_mb": rss[turn],
                        "asked_so_far": asked,
                    }
                    windows.append(window)
                    print(json.dumps({"long_session_progress": window}), file=sys.stderr, flush=True)
                if turn == 1 or turn % LONG_SESSION_ECHO_EVERY == 0 or turn == turns:
                    await pilot.pause(0.2)
                    echo[turn] = await _echo_ms(app, frames)
                if turn % LONG_SESSION_WINDOW == 0 or turn == turns:
                    mark = (time.perf_counter(), time.thread_time(), time.process_time())
            await pilot.pause(3.0)  # the postponed full collection runs after 2 s of idling
            rss[turns + 1] = _rss_now_mb()
            wall, cpu = time.perf_counter(), time.thread_time()
            await asyncio.sleep(5.0)
            idle_share = (time.thread_time() - cpu) / (time.perf_counter() - wall)
            rss_trimmed = _rss_after_malloc_trim()
            messages = len(app.session.conversation.messages)
    finally:
        stop_recording()
    return {
        "turns": turns,
        "messages": messages,
        "turns_the_large_request_dialog_asked": asked,
        "rss_mb_by_turn": rss,
        "windows": windows,
        "echo_median_ms_by_turn": echo,
        "idle_ui_thread_cpu_share": round(idle_share, 4),
        "rss_mb_after_malloc_trim": rss_trimmed,
    }


def _rss_after_malloc_trim() -> float | None:
    """RSS once glibc has handed its free heap pages back (what malloc_trim(0) would give); None off glibc."""
    from flashchat.tui.quiet_gc import malloc_trim_function

    trim = malloc_trim_function()
    if trim is None:
        return None
    trim(0)
    return _rss_now_mb()


# --- bytes to a real terminal ------------------------------------------------------------------------


# flashchat as Textual alone would write its frames: every moved widget repainted (the "before" of TerminalDiff).
WHOLE_FRAMES = (
    "import sys; from textual.app import App; from flashchat.tui.terminal_diff import DiffedDisplay; "
    "DiffedDisplay._display = App._display; from flashchat.cli.main import main; sys.exit(main())"
)


def paced_on_pty(
    fake: FakeGemini, home: str, document: str, tokens_per_second: float, *, whole_frames: bool = False
) -> dict[str, float]:
    """flashchat on a real pseudo-terminal (120x40) while the paced reply streams, pinned to the bottom.

    Counts every byte the app writes to the terminal from Enter until the reply is on screen, and the CPU
    (user + sys) of the flashchat process itself over its whole life (from wait4's rusage). `whole_frames`
    runs it with Textual's own frame writing instead of TerminalDiff.
    """
    chunk_chars = 20 * CHARS_PER_TOKEN
    reply = Reply.text(document, chunk_chars=chunk_chars, delay_s=chunk_chars / CHARS_PER_TOKEN / tokens_per_second)
    fake.enqueue(reply)
    env = environment(fake, home)
    env.update(TERM="xterm-256color", COLUMNS=str(SIZE[0]), LINES=str(SIZE[1]))
    pid, master = pty.fork()
    if pid == 0:
        os.execvpe(
            sys.executable,
            [sys.executable, "-c", WHOLE_FRAMES] if whole_frames else [sys.executable, "-m", "flashchat"],
            env,
        )
    import fcntl
    import struct
    import termios

    fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", SIZE[1], SIZE[0], 0, 0))
    seen = bytearray()
    streamed = 0
    state = "starting"
    timings_before = len(fake.stream_timings)
    deadline = time.monotonic() + 600
    quiet_until = 0.0
    memory: dict[str, float] = {}
    rss_before = 0.0
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.05)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:
                break
            if state == "streaming":
                streamed += len(data)
            else:
                seen += data
        if state == "starting" and b"thinking" in seen:
            time.sleep(0.5)  # let the first frames settle (the composer gets focus)
            rss_before = process_memory_mb(pid)["process_rss_after_mb"]
            os.write(master, b"go")
            time.sleep(0.3)
            os.write(master, b"\r")
            state = "streaming"
        elif state == "streaming" and not quiet_until and len(fake.stream_timings) > timings_before:
            if len(fake.stream_timings[-1]) >= len(reply.chunks):  # the server sent its last chunk
                quiet_until = time.monotonic() + 1.0  # the last frames after the server's last byte
        elif quiet_until and time.monotonic() > quiet_until and state == "streaming":
            state = "done"
            time.sleep(3.5)  # idle: the app's postponed full garbage collection runs (tui/quiet_gc.py)
            memory = process_memory_mb(pid)
            memory["process_rss_before_mb"] = rss_before
            os.write(master, b"\x11")  # ctrl+q
    usage = None
    with contextlib.suppress(ChildProcessError):
        _, _, usage = os.wait4(pid, 0)
    os.close(master)
    cpu = usage.ru_utime + usage.ru_stime if usage else float("nan")
    reply_seconds = len(document) / CHARS_PER_TOKEN / tokens_per_second
    return {
        "bytes_to_terminal_mb": round(streamed / 1e6, 3),
        "bytes_per_text_byte": round(streamed / len(document), 1),
        "process_cpu_s": round(cpu, 2),
        # Start-up and the idle seconds included: an upper bound on the reply's own share.
        "process_cpu_share_of_the_reply_s": round(cpu / reply_seconds, 3),
        **memory,
    }


def process_memory_mb(pid: int) -> dict[str, float]:
    """Peak and current RSS of a running process, its own (not a peak inherited across fork and exec)."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmHWM", "VmRSS"):
            fields[name] = round(int(value.split()[0]) / 1024, 1)
    return {"process_peak_rss_mb": fields.get("VmHWM", 0.0), "process_rss_after_mb": fields.get("VmRSS", 0.0)}


# --- a long stored conversation ------------------------------------------------------------------------


def build_history(path: Path, messages: int) -> str:
    """A stored conversation of `messages` messages (questions, and 400-token Markdown replies with their
    native content and usage), written in one import: saving them one by one took 110 s for 8,000."""
    from flashchat.store.conversation_store import open_store

    store = open_store(path)
    template = Conversation()
    for message in (Message(role="user", text="q"), Message(role="model", text="a", provider="gemini")):
        template.add(message)
        store.save_message(template, message)
    document = store.export_json(template.id or "")
    store.delete(template.id or "")
    question_fields, answer_fields = document["messages"]
    document["messages"] = []
    for number in range(messages // 2):
        answer_text = make_document(400, seed=number)
        document["messages"] += [
            question_fields | {"text": f"Question {number}: {_sentence(random.Random(number))}"},
            answer_fields
            | {
                "text": answer_text,
                "model": "gemini-3.5-flash",
                "thinking_level": "medium",
                "usage": {"prompt": 1000 + number * 500, "output": 400, "total": 1400 + number * 500},
                "finish_reason": "STOP",
                "native": {"role": "model", "parts": [{"text": answer_text}]},
            },
        ]
    document["conversation"] = {"title": f"{messages} messages"}
    conversation_id = store.import_json(document)
    store.close()
    return conversation_id


SCROLL_BUDGET_S = 120.0  # seconds of PageUp at most (--scroll-budget)


async def scroll_to_start(pilot, frames: list[float]) -> dict[str, object]:
    """PageUp from the composer, as fast as the app takes it, from the end of the conversation until its first
    message is mounted and at the top (the view's window mounts older messages ahead of the reader and unmounts
    the newest far below). For each key: the time from the key to the next frame painted after it; for every
    frame: the gap since the one before (the window's steps run between frames, so a slow step shows there).
    Robust on a loaded machine: the widgets mounted (the most at any key, and at the top) and the RSS."""
    from flashchat.tui.widgets.conversation_view import ConversationView

    view = pilot.app.query_one(ConversationView)
    latencies: list[float] = []
    hop_latencies: list[float] = []
    plain_latencies: list[float] = []
    rss_by_key: dict[int, float] = {}
    not_mounted = view.earlier_not_mounted
    most_message_widgets = most_widgets = 0
    first_frame = len(frames)
    rss_before = _rss_now_mb()
    widgets_before = len(list(pilot.app.screen.walk_children()))
    started, cpu_started = time.perf_counter(), time.process_time()
    not_mounted_at_start = view.earlier_not_mounted
    # Bounded, in case the top is out of reach (before the window it was: every message scrolled past stayed).
    while (
        len(latencies) < 20_000
        and time.perf_counter() - started < SCROLL_BUDGET_S
        and not (view.scroll_y <= 0 and view.earlier_not_mounted == 0)
    ):
        before = len(frames)
        pressed = time.perf_counter()
        await pilot.press("pageup")
        deadline = pressed + 5
        while len(frames) == before and time.perf_counter() < deadline:
            await asyncio.sleep(0.0005)
        if len(frames) > before:
            latency = (frames[before] - pressed) * 1000
            latencies.append(latency)
            # A key whose frame came after the window mounted older messages (one "load earlier" hop).
            (hop_latencies if view.earlier_not_mounted != not_mounted else plain_latencies).append(latency)
        not_mounted = view.earlier_not_mounted
        if len(latencies) % 10 == 0:  # walking the DOM every key would slow the keys it measures
            most_message_widgets = max(most_message_widgets, len(view.message_widgets))
            most_widgets = max(most_widgets, len(list(pilot.app.screen.walk_children())))
        if len(latencies) % 100 == 0:
            rss_by_key[len(latencies)] = _rss_now_mb()
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    scrolled_past = not_mounted_at_start - view.earlier_not_mounted
    gaps = [(later - earlier) * 1000 for earlier, later in itertools.pairwise(frames[first_frame:])]
    return {
        "keys": len(latencies),
        "seconds": round(seconds, 2),
        "reached_the_first_message": view.scroll_y <= 0 and view.earlier_not_mounted == 0,
        "seconds_to_the_first_message": round(seconds, 2) if view.earlier_not_mounted == 0 else None,
        "messages_not_reached": view.earlier_not_mounted,
        # CPU time is this process's own: on a loaded machine it says more than the seconds above.
        "cpu_seconds": round(cpu_seconds, 2),
        "cpu_ms_per_key": round(cpu_seconds * 1000 / max(1, len(latencies)), 1),
        "cpu_ms_per_message_reached": round(cpu_seconds * 1000 / max(1, scrolled_past), 1),
        "key_to_frame_ms_median": round(statistics.median(latencies), 1),
        "key_to_frame_ms_p95": round(percentile(latencies, 0.95), 1),
        "key_to_frame_ms_max": round(max(latencies), 1),
        "keys_over_16_ms": sum(1 for latency in latencies if latency > 16),
        "hop_keys": len(hop_latencies),
        "hop_key_to_frame_ms_median": round(statistics.median(hop_latencies), 1) if hop_latencies else None,
        "hop_key_to_frame_ms_p95": round(percentile(hop_latencies, 0.95), 1) if hop_latencies else None,
        "other_key_to_frame_ms_median": round(statistics.median(plain_latencies), 1) if plain_latencies else None,
        "frames": len(gaps) + 1,
        "gap_between_frames_ms_median": round(statistics.median(gaps), 1) if gaps else 0.0,
        "gap_between_frames_ms_p95": round(percentile(gaps, 0.95), 1) if gaps else 0.0,
        "longest_gap_between_frames_ms": round(max(gaps), 1) if gaps else 0.0,
        "message_widgets_mounted_at_most": max(most_message_widgets, len(view.message_widgets)),
        "message_widgets_mounted_at_the_top": len(view.message_widgets),
        "widgets_in_the_dom_before": widgets_before,
        "widgets_in_the_dom_at_most": max(most_widgets, len(list(pilot.app.screen.walk_children()))),
        "rss_before_scroll_mb": rss_before,
        "rss_after_scroll_mb": _rss_now_mb(),
        "rss_mb_by_key": rss_by_key,
        "rss_after_scroll_and_malloc_trim_mb": _rss_after_malloc_trim(),
        "messages_not_mounted_below_at_the_top": getattr(view, "later_not_mounted", None),
    }


def open_history_child(database: str, conversation_id: str, scroll: bool) -> None:
    """Runs in a fresh process: open the conversation; report when its first frame and the first frame with its
    messages were painted (time.monotonic(), one clock for every process), peak RSS, and, with `scroll`,
    scrolling from its end to its start."""
    from flashchat.store.conversation_store import open_store
    from flashchat.tui.widgets.reply_view import ReplyView

    report: dict[str, object] = {}
    frames: list[float] = []
    original_display = App._display

    def display(self: App, screen, renderable) -> None:
        if renderable is not None:
            report.setdefault("first_frame_monotonic", time.monotonic())
            if "painted_monotonic" not in report and self.query(ReplyView):
                report["painted_monotonic"] = time.monotonic()
        original_display(self, screen, renderable)
        if renderable is not None:
            frames.append(time.perf_counter())

    App._display = display  # type: ignore[method-assign]

    async def wait(pilot) -> None:
        while "painted_monotonic" not in report:
            await pilot.pause(0.01)
        await pilot.pause(0.3)
        report["rss_after_open_mb"] = _rss_now_mb()
        if scroll:
            report["scroll"] = await scroll_to_start(pilot, frames)
        pilot.app.exit()

    app = FlashchatApp(
        Settings(api_key="bench"),
        config_path=Path(database).with_name("config.toml"),
        open_store=lambda: open_store(Path(database)),
        conversation_id=conversation_id,
        warm_up=False,
    )
    app.run(headless=True, size=SIZE, auto_pilot=wait)
    report["max_rss_mb"] = own_peak_rss_mb()
    print(json.dumps(report))


def own_peak_rss_mb() -> float:
    """This process's own peak RSS. getrusage's ru_maxrss survives exec on Linux: a child started by a big
    parent reports the parent's peak (320 MB for the history child, which itself peaks at 66 MB); VmHWM
    belongs to the process's own address space."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def open_history(messages: int, runs: int, home: str, *, scroll: bool) -> dict[str, object]:
    """Open a stored `messages`-message conversation in a fresh process `runs` times (the light probe of
    tests/tui/first_frame_probe.py, so the time from the spawn is the app's own): seconds to its first frame
    and to its last messages painted, and peak RSS. With `scroll`, one more run scrolls it end to start."""
    database = Path(home) / f"history-{messages}.db"
    conversation_id = build_history(database, messages)
    opened = []
    for _ in range(runs):
        spawned = time.monotonic()
        out = subprocess.run(
            [sys.executable, str(PROBE), "--open", str(database), conversation_id],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        report = json.loads(out.strip().splitlines()[-1])
        opened.append(
            {
                "first_frame_s": report["first_frame_monotonic"] - spawned,
                "painted_s": report["painted_monotonic"] - spawned,
                "peak_rss_mb": report["peak_rss_mb"],
            }
        )
    result: dict[str, object] = {
        "painted_s": spread([r["painted_s"] for r in opened]),
        "first_frame_s_median": round(statistics.median(r["first_frame_s"] for r in opened), 3),
        "peak_rss_mb": max(r["peak_rss_mb"] for r in opened),
    }
    if scroll:
        argv = [sys.executable, __file__, "--open-history-child", str(database), conversation_id, "--scroll"]
        argv += ["--scroll-budget", str(SCROLL_BUDGET_S)]
        out = subprocess.run(argv, capture_output=True, text=True, check=True).stdout
        report = json.loads(out.strip().splitlines()[-1])
        result["scroll_from_end_to_start"] = report["scroll"] | {"process_peak_rss_mb": report["max_rss_mb"]}
    return result


def main() -> None:
    global SCROLL_BUDGET_S  # the history scroll's budget, from --scroll-budget
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="first-frame,full-speed,paced,pty,history")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--tokens", type=int, default=20_000, help="the reply's length for the paced and pty runs")
    parser.add_argument(
        "--full-speed-tokens", default="5000,10000,20000,40000", help="reply lengths for the full-speed runs"
    )
    parser.add_argument("--rate", default="400,2000", help="tokens per second for the paced runs (a list)")
    parser.add_argument("--paced-runs", type=int, default=3, help="paced runs (each takes about a minute)")
    parser.add_argument("--turns", type=int, default=500, help="turns in the long-session run")
    parser.add_argument("--history-lengths", default="500,2000,8000", help="messages in the opened conversations")
    parser.add_argument("--history-runs", type=int, default=3, help="opens of each conversation")
    parser.add_argument("--no-scroll", action="store_true", help="skip scrolling the 2,000-message conversation")
    parser.add_argument(
        "--callgrind", action="store_true", help="first-frame: also count instructions with valgrind (a minute)"
    )
    parser.add_argument("--open-history-child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--first-token-child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--server-latency", type=float, default=0.0, help=argparse.SUPPRESS)
    parser.add_argument("--scroll", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--scroll-budget", type=float, default=SCROLL_BUDGET_S, help="seconds of PageUp at most in the history scroll"
    )
    parser.add_argument("--full-speed-child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--heap", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.first_token_child:
        print(json.dumps(asyncio.run(first_token_session(args.first_token_child, args.server_latency))))
        return
    SCROLL_BUDGET_S = args.scroll_budget
    if args.open_history_child:
        open_history_child(*args.open_history_child, args.scroll)
        return
    if args.full_speed_child:
        full_speed_child(args.full_speed_child, args.heap)
        return
    rates = [float(rate) for rate in args.rate.split(",")]
    only = set(args.only.split(","))
    document = make_document(args.tokens)
    results: dict[str, object] = {"document_chars": len(document), "document_tokens": len(document) // 4}
    compile_sources()
    results["load_before"] = Path("/proc/loadavg").read_text().split()[:3]
    with tempfile.TemporaryDirectory() as home, FakeGemini() as fake:
        os.environ.update(XDG_CONFIG_HOME=f"{home}/config", XDG_DATA_HOME=f"{home}/data")
        if "first-frame" in only:
            headless = first_frame_headless(args.runs, home)
            on_pty = first_frame_pty(args.runs, fake, home)
            results["first_frame_headless_s"] = spread(headless)
            results["first_frame_pty_s"] = spread(on_pty["flashchat"])
            results["first_frame_pty_bare_textual_s"] = spread(on_pty["bare_textual"])
            results["first_frame_pty_ratio_to_bare_textual"] = round(
                statistics.median(on_pty["flashchat"]) / statistics.median(on_pty["bare_textual"]), 2
            )
            cpu = first_frame_cpu(args.runs, fake, home)
            results["first_frame_cpu_s"] = spread(cpu["flashchat"])
            results["first_frame_cpu_bare_textual_s"] = spread(cpu["bare_textual"])
            results["first_frame_cpu_ratio_to_bare_textual"] = round(
                statistics.median(cpu["flashchat"]) / statistics.median(cpu["bare_textual"]), 2
            )
            if args.callgrind:
                counts = first_frame_instructions(fake, home)
                results["first_frame_instructions_g"] = counts
                results["first_frame_instructions_ratio_to_bare_textual"] = round(
                    counts["flashchat"] / counts["bare_textual"], 2
                )
            print(json.dumps({k: v for k, v in results.items() if k.startswith("first_frame")}), flush=True)
        if "full-speed" in only:
            # Each size in its own process (peak RSS is per process); the stock widget at --tokens, in this one.
            sizes = [int(tokens) for tokens in args.full_speed_tokens.split(",")]
            runs = full_speed_in_children(sizes)
            stock = asyncio.run(baseline_full_speed(fake, document))
            results["full_speed"] = {"runs": runs, **linearity(runs), "stock_markdown_stream_s": round(stock, 2)}
            print(json.dumps({"full_speed": results["full_speed"]}), flush=True)
            # The memory a finished reply keeps: RSS (allocator pages) and the Python heap (tracemalloc).
            kept = full_speed_in_children([args.tokens], heap=True)[0]
            results["reply_memory"] = {
                "text_mb": round(len(document) / 1e6, 3),
                "rss_before_mb": kept["rss_before_mb"],
                "rss_after_idle_mb": kept["rss_after_idle_mb"],
                "rss_kept_mb": kept["rss_kept_mb"],
                "heap_kept_mb": kept["heap_kept_mb"],
                "heap_kept_per_text_byte": kept["heap_kept_per_text_byte"],
            }
            print(json.dumps({"reply_memory": results["reply_memory"]}), flush=True)
        if "paced" in only:
            # One run's p95 moves by several ms on this shared machine: report the median run and all of them.
            for rate in rates:
                runs = [asyncio.run(flashchat_paced(fake, document, rate)) for _ in range(args.paced_runs)]
                paced = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
                paced["echo_p95_ms_runs"] = [run["echo_p95_ms"] for run in runs]
                results[f"paced_{rate:g}"] = paced
                print(json.dumps({f"paced_{rate:g}": paced}), flush=True)
        if "pty" in only:
            # Interleaved: flashchat as it is, then with Textual's own whole-frame writing, run after run.
            for whole_frames in [False, True] * args.paced_runs:
                name = "paced_on_pty_textual_frames" if whole_frames else "paced_on_pty"
                run = paced_on_pty(fake, home, document, rates[0], whole_frames=whole_frames)
                results.setdefault(name, {"runs": []})["runs"].append(run)  # type: ignore[union-attr]
            for name in ("paced_on_pty", "paced_on_pty_textual_frames"):
                runs = results[name]["runs"]  # type: ignore[index]
                results[name] |= {key: statistics.median(run[key] for run in runs) for key in runs[0]}  # type: ignore[operator]
                print(json.dumps({name: results[name]}), flush=True)
        if "first-token" in only:
            results["first_token"] = first_token(args.runs)
            print(json.dumps({"first_token": results["first_token"]}), flush=True)
            # As from a real model, which takes a while to its first token: the turn's widgets are up by then.
            results["first_token_server_latency"] = first_token(args.runs, server_latency=0.3)
            print(json.dumps({"first_token_server_latency": results["first_token_server_latency"]}), flush=True)
        if "long-session" in only:
            results["long_session"] = asyncio.run(long_session(fake, args.turns))
            print(json.dumps({"long_session": results["long_session"]}), flush=True)
        if "history" in only:
            for length in (int(value) for value in args.history_lengths.split(",")):
                results[f"open_{length}_messages"] = opened = open_history(
                    length, args.history_runs, home, scroll=length == 2000 and not args.no_scroll
                )
                print(json.dumps({f"open_{length}_messages": opened}), flush=True)
    results["load_after"] = Path("/proc/loadavg").read_text().split()[:3]
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
