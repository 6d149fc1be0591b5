"""The TUI's speed, against the fake Gemini server. Prints numbers; asserts nothing.

    python bench/tui.py [--only first-frame,full-speed,paced,pty,long-session,history] [--runs 5] [--paced-runs 3]

Measures
  first-frame  time from process start to the first painted frame: headless (tests/tui/first_frame_probe.py)
               and under a real pseudo-terminal (`flashchat` started on a pty, until the status bar shows).
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
  first-token  in a warmed-up app: Enter -> the request at the fake, and the fake's first byte -> its text on screen.
  long-session 500 scripted turns in one TUI session (--turns), then idle: RSS every 50 turns and after the
               idle collection, keystroke echo at the first and the last turn, the UI thread's idle CPU share.
  history      opening a stored 2,000-message conversation: time to first paint of its last messages, and RSS.
The document is built here from a fixed seed: prose, lists, tables and a 300-line code block.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
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
from flashchat.core.conversation import Conversation, Message, Usage
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


def first_frame_pty(runs: int, fake: FakeGemini, home: str) -> list[float]:
    env = environment(fake, home)
    env.update(
        TERM="xterm-256color",
        COLUMNS="120",
        LINES="40",
    )
    times = []
    for _ in range(runs):
        spawned = time.monotonic()
        pid, master = pty.fork()
        if pid == 0:
            os.execvpe(sys.executable, [sys.executable, "-m", "flashchat"], env)
        seen = b""
        shown = None
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.05)
            if ready:
                try:
                    seen += os.read(master, 65536)
                except OSError:
                    break
                if shown is None and b"thinking" in seen:
                    shown = time.monotonic() - spawned
                    os.write(master, b"\x11")  # ctrl+q
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)
        os.close(master)
        if shown is not None:
            times.append(shown)
    return times


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


async def first_token(fake: FakeGemini, runs: int) -> dict[str, object]:
    """Enter -> the request at the fake, and the fake's first byte -> that text on screen (first frame that shows
    it), in a warmed-up app (the provider imported during idle after the first frame), `runs` messages."""
    from flashchat.tui.widgets.reply_segment import ReplySegment

    arrivals: list[float] = []

    def responder(request):
        arrivals.append(time.monotonic())
        return Reply.text("First words of the answer, then more.", chunk_chars=8)

    fake.responder = responder
    app = FlashchatApp(settings_for(fake), config_path=Path(tempfile.mkdtemp()) / "c.toml", warm_up=True)
    shown: list[float] = []
    original_display = App._display

    def display(self: App, screen, renderable) -> None:
        if renderable is not None and len(shown) < len(arrivals):
            segments = list(self.query(ReplySegment))
            if segments and segments[-1].source:
                shown.append(time.monotonic())
        original_display(self, screen, renderable)

    App._display = display  # type: ignore[method-assign]
    to_request, to_screen = [], []
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause(2.0)  # idle after the first frame: the warm-up imports the provider
            for turn in range(runs):
                app.composer.load_text(f"question {turn}")
                pressed = time.monotonic()
                await pilot.press("enter")
                while len(shown) <= turn:
                    await asyncio.sleep(0.001)
                while app.replying:
                    await asyncio.sleep(0.005)
                to_request.append(arrivals[turn] - pressed)
                to_screen.append(shown[turn] - fake.stream_timings[-1][0])
                await pilot.pause(0.2)
    finally:
        App._display = original_display  # type: ignore[method-assign]
        fake.responder = None

    def summary(values: list[float]) -> dict[str, float]:
        return {"median": round(statistics.median(values) * 1000, 1), "max": round(max(values) * 1000, 1)}

    return {
        "enter_to_request_ms": summary(to_request),
        "first_byte_to_screen_ms": summary(to_screen),
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
            await asyncio.sleep(0.001)
        delays.append(frames[-1] - pressed)
        await asyncio.sleep(0.02)
    app.composer.load_text("")
    return round(statistics.median(delays) * 1000, 1)


async def long_session(fake: FakeGemini, turns: int) -> dict[str, object]:
    """`turns` scripted turns in one TUI session (a 400-token Markdown reply each), then idle.

    Reports RSS along the way, keystroke echo at the first and the last turn, and the UI thread's CPU share
    over 5 s of idling at the end.
    """
    app = FlashchatApp(settings_for(fake), config_path=Path(tempfile.mkdtemp()) / "c.toml", warm_up=False)
    frames: list[float] = []
    stop_recording = record_frames(frames)
    rss: dict[int, float] = {}
    echo: dict[int, float] = {}
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            for turn in range(1, turns + 1):
                fake.enqueue(Reply.text(make_document(400, seed=turn), chunk_chars=80))
                app.composer.load_text(f"question {turn}")
                await pilot.press("enter")
                while app.replying:
                    await asyncio.sleep(0.005)
                if turn in (1, turns):
                    await pilot.pause(0.2)
                    echo[turn] = await _echo_ms(app, frames)
                if turn == 1 or turn % 50 == 0:
                    rss[turn] = _rss_now_mb()
            await pilot.pause(3.0)  # the postponed full collection runs after 2 s of idling
            rss[turns + 1] = _rss_now_mb()
            wall, cpu = time.perf_counter(), time.thread_time()
            await asyncio.sleep(5.0)
            idle_share = (time.thread_time() - cpu) / (time.perf_counter() - wall)
    finally:
        stop_recording()
    return {
        "turns": turns,
        "rss_mb_by_turn": rss,
        "echo_median_ms_first_turn": echo.get(1),
        "echo_median_ms_last_turn": echo.get(turns),
        "idle_ui_thread_cpu_share": round(idle_share, 4),
    }


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
    from flashchat.store.conversation_store import open_store

    store = open_store(path)
    conversation = Conversation()
    for number in range(messages // 2):
        question = Message(role="user", text=f"Question {number}: {_sentence(random.Random(number))}")
        answer_text = make_document(400, seed=number)
        answer = Message(
            role="model",
            text=answer_text,
            provider="gemini",
            model="gemini-3.5-flash",
            thinking_level="medium",
            usage=Usage(prompt=1000 + number * 500, output=400, total=1400 + number * 500),
            finish_reason="STOP",
            native={"role": "model", "parts": [{"text": answer_text}]},
        )
        for message in (question, answer):
            conversation.add(message)
            store.save_message(conversation, message)
    store.close()
    return conversation.id or ""


def open_history_child(database: str, conversation_id: str) -> None:
    """Runs in a fresh process: open the conversation, report time to its first paint and peak RSS."""
    started = time.monotonic()
    from flashchat.store.conversation_store import open_store
    from flashchat.tui.widgets.reply_view import ReplyView

    report: dict[str, float] = {}
    original_display = App._display

    def display(self: App, screen, renderable) -> None:
        if renderable is not None and "painted_s" not in report and self.query(ReplyView):
            report["painted_s"] = time.monotonic() - started
        original_display(self, screen, renderable)

    App._display = display  # type: ignore[method-assign]

    async def wait(pilot) -> None:
        while "painted_s" not in report:
            await pilot.pause(0.01)
        await pilot.pause(0.3)
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


def open_history(messages: int, runs: int, home: str) -> list[dict[str, float]]:
    database = Path(home) / "history.db"
    conversation_id = build_history(database, messages)
    results = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, __file__, "--open-history-child", str(database), conversation_id],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def main() -> None:
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
    parser.add_argument("--open-history-child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--full-speed-child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--heap", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.open_history_child:
        open_history_child(*args.open_history_child)
        return
    if args.full_speed_child:
        full_speed_child(args.full_speed_child, args.heap)
        return
    rates = [float(rate) for rate in args.rate.split(",")]
    only = set(args.only.split(","))
    document = make_document(args.tokens)
    results: dict[str, object] = {"document_chars": len(document), "document_tokens": len(document) // 4}
    with tempfile.TemporaryDirectory() as home, FakeGemini() as fake:
        os.environ.update(XDG_CONFIG_HOME=f"{home}/config", XDG_DATA_HOME=f"{home}/data")
        if "first-frame" in only:
            headless = first_frame_headless(args.runs, home)
            on_pty = first_frame_pty(args.runs, fake, home)
            results["first_frame_headless_s"] = {"median": round(statistics.median(headless), 3), "runs": headless}
            results["first_frame_pty_s"] = {"median": round(statistics.median(on_pty), 3), "runs": on_pty}
            print(json.dumps({k: results[k] for k in ("first_frame_headless_s", "first_frame_pty_s")}), flush=True)
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
            results["first_token"] = asyncio.run(first_token(fake, args.runs * 2))
            print(json.dumps({"first_token": results["first_token"]}), flush=True)
        if "long-session" in only:
            results["long_session"] = asyncio.run(long_session(fake, args.turns))
            print(json.dumps({"long_session": results["long_session"]}), flush=True)
        if "history" in only:
            opened = open_history(2000, 3, home)
            results["open_2000_messages"] = {
                "painted_s_median": round(statistics.median(r["painted_s"] for r in opened), 3),
                "max_rss_mb": max(r["max_rss_mb"] for r in opened),
                "runs": opened,
            }
            print(json.dumps({"open_2000_messages": results["open_2000_messages"]}), flush=True)
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
