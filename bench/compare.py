"""flashchat side by side with other terminal chat clients, on one fake stream. Prints numbers; asserts nothing.

    python bench/compare.py [--runs 3] [--tokens 20000] [--rate 400,2000] [--peers elia,oterm] [--out DIR]

Every client runs on a real pseudo-terminal at 120x40 and gets the same reply: the bench/tui.py document
(prose, lists, tables, a 300-line code block) at each `--rate` (tokens/s) in ~20-token chunks, ending with a
marker word. The OpenAI-compatible clients read it from `flashchat.testing.fake_openai`, oterm from
`flashchat.testing.fake_ollama` (the same `Reply`, so the same chunks at the same times). Clients are
interleaved run after run, so a change in the machine's load hits all of them alike; the load is printed.
Per client and run:
  first frame       process start to the client's first screen (its ready marker in the output)
  idle RSS          the client's own resident memory once ready (VmRSS)
  CPU               user + sys seconds of the client's process from the prompt until the reply is on screen
  bytes             bytes the client wrote to the terminal from the prompt until the reply is on screen
  last byte -> screen  from the server's last byte to the marker word appearing on the terminal (a client
                    still rendering at `--timeout` gets the time until then, marked "≥" as a lower bound,
                    and so do its CPU, bytes and echo)
  echo p50 / p95    while the reply streams (first byte sent until the marker is on screen) the bench types a
                    letter every `--echo-every` seconds, one key in flight, and times it until the client writes
                    that letter to the terminal; then it erases it with a backspace. The letters (Q, V, Y, Z, in
                    turn) are ones the document and the client's first screen lack. Every sample is kept with
                    its time in the stream, for bench/plot_echo.py. A key not echoed within 5 s counts with the
                    time it waited (a lower bound, drawn hollow in the plot), and typing goes on.
The clients:
  flashchat   this checkout, provider "openai" pointed at the fake
  textual     a bare Textual app: one Markdown widget fed by Markdown.get_stream, the stream read with urllib
  floor       a stdlib client that writes each delta to the terminal as it arrives (what `cat` of the text
              costs); its echo is the kernel's own (the pty's line discipline), the floor for echo
  elia        --peers elia: elia-chat from PyPI in a throwaway virtualenv, model "openai/…" at the fake
  oterm       --peers oterm: oterm from PyPI in a throwaway virtualenv, OLLAMA_HOST at the fake Ollama, one
              saved chat created through oterm's own store before the run, the splash screen off
Every client gets a fresh temporary HOME and XDG dirs: nothing reads or writes the user's own config or data.
The peers' virtualenvs live in $FLASHCHAT_BENCH_VENVS (default: <tmp>/flashchat-compare-venvs), never in
the repository. `--out DIR` writes compare.md (the tables), compare.json (every run and echo sample) and
echo.svg (echo latency across the stream, bench/plot_echo.py).
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import platform
import pty
import select
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from flashchat.testing.fake_ollama import FakeOllama
from flashchat.testing.fake_openai import FakeOpenAI, Reply
from plot_echo import write_svg  # bench/ is on sys.path when this runs as a script
from tui import CHARS_PER_TOKEN, make_document, percentile

SIZE = (120, 40)
MARKER = "zqxendofreply"
# Letters the bench document never uses and no escape sequence the clients write ends with.
ECHO_KEYS = b"QVYZ"
ECHO_GIVE_UP_S = 5.0
PEER_VENVS = Path(os.environ.get("FLASHCHAT_BENCH_VENVS") or Path(tempfile.gettempdir()) / "flashchat-compare-venvs")
PEER_PACKAGES = {"elia": "elia-chat", "oterm": "oterm"}
OLLAMA_MODEL = "llama3.2:latest"
FIGURES = {  # figure -> its row in the table
    "first_frame_s": "first frame (s)",
    "idle_rss_mb": "idle RSS (MB)",
    "cpu_s": "CPU while the reply streams (s)",
    "bytes_mb": "bytes to the terminal (MB)",
    "last_byte_to_screen_s": "server's last byte → reply on screen (s)",
    "echo_p50_ms": "keystroke echo p50 (ms)",
    "echo_p95_ms": "keystroke echo p95 (ms)",
}

# The stdlib floor: read the SSE stream, write each delta's text straight to the terminal.
FLOOR = r"""
import json, sys, urllib.request
url, key = sys.argv[1], sys.argv[2]
body = json.dumps({"model": "m", "stream": True, "messages": [{"role": "user", "content": "go"}]}).encode()
request = urllib.request.Request(url + "/chat/completions", body, {"Content-Type": "application/json",
    "Authorization": "Bearer " + key})
out = sys.stdout
out.write("ready\n"); out.flush()
with urllib.request.urlopen(request) as response:
    for line in response:
        if line.startswith(b"data: {"):
            for choice in json.loads(line[6:])["choices"]:
                text = (choice.get("delta") or {}).get("content")
                if text:
                    out.write(text); out.flush()
sys.stdin.read(1)
"""

# A bare Textual app: Enter starts the stream into one Markdown widget inside an anchored VerticalScroll.
BARE_TEXTUAL = r"""
import json, sys, threading, urllib.request
from textual.app import App
from textual.containers import VerticalScroll
from textual.widgets import Input, Markdown
url, key = sys.argv[1], sys.argv[2]

class Bare(App):
    CSS = "#chat { height: 1fr; }"
    AUTO_FOCUS = "Input"
    BINDINGS = [("ctrl+q", "quit", "Quit")]
    def compose(self):
        with VerticalScroll(id="chat"):
            yield Markdown(id="md")
        yield Input(placeholder="bare textual ready")
    def on_mount(self):
        self.query_one("#chat").anchor()
    async def on_input_submitted(self, event):
        self.stream = Markdown.get_stream(self.query_one("#md"))
        threading.Thread(target=self.read, daemon=True).start()
    def read(self):
        body = json.dumps({"model": "m", "stream": True, "messages": [{"role": "user", "content": "go"}]})
        request = urllib.request.Request(url + "/chat/completions", body.encode(),
            {"Content-Type": "application/json", "Authorization": "Bearer " + key})
        with urllib.request.urlopen(request) as response:
            for line in response:
                if line.startswith(b"data: {"):
                    for choice in json.loads(line[6:])["choices"]:
                        text = (choice.get("delta") or {}).get("content")
                        if text:
                            self.call_from_thread(self.stream.write, text)

Bare().run()
"""


@dataclass
class Fakes:
    openai: FakeOpenAI
    ollama: FakeOllama


@dataclass
class Step:
    """One thing typed once the client is ready: the bytes, then a pause for the screen to take them."""

    keys: bytes
    pause_s: float = 0.2


@dataclass
class Client:
    name: str
    command: Callable[[Fakes, Path], list[str]]
    ready: bytes  # seen in the output once the first screen is up
    steps: list[Step] = field(default_factory=list)  # typed once ready (none when the command line asks)
    env: Callable[[Fakes, Path], dict[str, str]] = field(default=lambda fakes, home: {})
    server: str = "openai"  # which fake streams the reply: "openai" or "ollama"
    # When the reply counts as shown, for a client that does not keep it on screen: given the fake and how many
    # requests it had before the run. None: the marker word on the terminal.
    done: Callable[[FakeOpenAI, int], bool] | None = None


def _oterm_done(fake: FakeOpenAI, requests_before: int) -> bool:
    """oterm asks /api/ps for the context length right after it finished a reply (ChatContainer._show_context).
    It is the signal used for oterm, because oterm stops following a reply that outgrows its view by more than
    two rows, so the end of the reply is not on the screen."""
    paths = [request.path for request in fake.requests[requests_before:]]
    return "/v1/chat/completions" in paths and paths[paths.index("/v1/chat/completions") :].count("/api/ps") > 0


def _flashchat_env(fakes: Fakes, home: Path) -> dict[str, str]:
    config = home / "config" / "flashchat" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(f'provider = "openai"\nbase_url = "{fakes.openai.url}"\nmodel = "gemini-3.5-flash"\n')
    config.chmod(0o600)
    return {"OPENAI_API_KEY": fakes.openai.api_key}


def _elia_env(fakes: Fakes, home: Path) -> dict[str, str]:
    config_dir = home / "config" / "elia"
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "config.toml").write_text(
        'default_model = "openai/fake"\n[[models]]\nname = "openai/fake"\n'
        f'api_base = "{fakes.openai.url}"\napi_key = "{fakes.openai.api_key}"\n'
    )
    return {"OPENAI_API_KEY": fakes.openai.api_key}


# Run with oterm's own interpreter before the measured start: one saved chat on the fake's model, through
# oterm's store (so its schema and upgrades are oterm's business), and the splash screen off.
OTERM_SEED = r"""
import asyncio, json, os, sys
from pathlib import Path
data = Path(os.environ["OTERM_DATA_DIR"])
data.mkdir(parents=True, exist_ok=True)
(data / "config.json").write_text(json.dumps({"theme": "textual-dark", "splash-screen": False}))
from oterm.store.store import Store
from oterm.types import ChatModel
async def seed():
    store = await Store.get_store()
    await store.save_chat(ChatModel(name="bench", model=sys.argv[1], provider="ollama"))
asyncio.run(seed())
"""


def _oterm_env(fakes: Fakes, home: Path) -> dict[str, str]:
    env = {"OLLAMA_HOST": fakes.ollama.host_port, "OTERM_DATA_DIR": str(home / "data" / "oterm")}
    seed_env = {**_clean_environment(home), **env}
    subprocess.run([str(peer_bin("oterm", "python")), "-c", OTERM_SEED, OLLAMA_MODEL], env=seed_env, check=True)
    return env


def clients(peers: list[str]) -> list[Client]:
    ask = [Step(b"go"), Step(b"\r", 0.0)]
    chosen = [
        Client("flashchat", lambda fakes, home: [sys.executable, "-m", "flashchat"], b"thinking", ask, _flashchat_env),
        Client(
            "textual",
            lambda fakes, home: [sys.executable, "-c", BARE_TEXTUAL, fakes.openai.url, fakes.openai.api_key],
            # Its placeholder without the first letter: the focused Input's cursor is drawn over the "b", so the
            # whole phrase first reached the terminal when the cursor blinked off, 0.5-1 s after the first frame.
            b"are textual ready",
            ask,
        ),
        Client(
            "floor",
            lambda fakes, home: [sys.executable, "-c", FLOOR, fakes.openai.url, fakes.openai.api_key],
            b"ready",
        ),
    ]
    if "elia" in peers:
        chosen.append(
            Client(
                "elia",
                lambda fakes, home: [str(peer_bin("elia", "elia")), "-m", "openai/fake", "go"],
                b"\x1b[?1049h",  # the alternate screen: its first frame follows
                env=_elia_env,
            )
        )
    if "oterm" in peers:
        chosen.append(
            Client(
                "oterm",
                lambda fakes, home: [str(peer_bin("oterm", "oterm"))],
                b"model: " + OLLAMA_MODEL.encode(),  # the saved chat's header line
                ask,
                _oterm_env,
                server="ollama",
                done=_oterm_done,
            )
        )
    return chosen


def peer_bin(peer: str, script: str) -> Path:
    """The peer's console script in its throwaway virtualenv, installed from PyPI on first use."""
    venv = PEER_VENVS / peer
    if not (venv / "bin" / peer).exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", PEER_PACKAGES[peer]], check=True)
    return venv / "bin" / script


def peer_version(peer: str) -> str:
    python = PEER_VENVS / peer / "bin" / "python"
    code = f"import importlib.metadata as m; print(m.version({PEER_PACKAGES[peer]!r}))"
    return subprocess.run([str(python), "-c", code], capture_output=True, text=True).stdout.strip()


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _clean_environment(home: Path) -> dict[str, str]:
    """The bench's environment without any key or endpoint, with HOME and the XDG dirs in a temporary one."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GEMINI_", "GOOGLE_", "OPENAI_", "OLLAMA_", "ANTHROPIC_", "ELIA_", "OTERM_"))
    }
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_DATA_HOME=str(home / "data"),
        XDG_CACHE_HOME=str(home / "cache"),
        XDG_STATE_HOME=str(home / "state"),
        TERM="xterm-256color",
        COLUMNS=str(SIZE[0]),
        LINES=str(SIZE[1]),
    )
    return env


class Echo:
    """Types a key every `every` seconds while the reply streams, one key in flight, and times each.

    The keys cycle through letters the document and the client's first screen do not contain, and each is
    erased (backspace) once it is echoed. So the prompt holds at most one letter, and a late repaint of the
    prompt as it was a few keys ago shows another letter, not the one being timed.
    """

    def __init__(self, master: int, every: float) -> None:
        self.master, self.every = master, every
        self.keys = ECHO_KEYS
        self.samples: list[tuple[float, float]] = []  # (seconds since the first byte was sent, latency)
        self.unanswered: list[tuple[float, float]] = []  # keys never echoed: (when typed, how long they waited)
        self.pressed: bytes = b""
        self.pressed_at = 0.0
        self.next_at = 0.0
        self.start = 0.0
        self.typed = 0

    def begin(self, start: float, first_screen: bytes) -> None:
        self.start, self.next_at = start, start
        self.keys = bytes(key for key in ECHO_KEYS if key not in first_screen) or ECHO_KEYS[:1]

    def saw(self, data: bytes, now: float) -> None:
        if self.pressed and self.pressed in data:
            self.samples.append((self.pressed_at - self.start, now - self.pressed_at))
            self.pressed = b""
            os.write(self.master, b"\x7f")  # erased at once; the next key waits `every`
            self.next_at = max(self.next_at, now)

    def tick(self, now: float) -> None:
        if self.pressed and now - self.pressed_at > ECHO_GIVE_UP_S:  # lost or stuck: count it, go on typing
            self.unanswered.append((self.pressed_at - self.start, now - self.pressed_at))
            self.pressed = b""
            os.write(self.master, b"\x7f")
        if self.start and not self.pressed and now >= self.next_at:
            self.pressed = self.keys[self.typed % len(self.keys) : self.typed % len(self.keys) + 1]
            self.typed += 1
            os.write(self.master, self.pressed)
            self.pressed_at = time.monotonic()
            self.next_at = self.pressed_at + self.every

    def finish(self, master: int, grace_s: float) -> None:
        """The reply is on screen: wait up to `grace_s` for the key in flight. Keys not echoed (here or after
        ECHO_GIVE_UP_S while streaming) are kept in `unanswered` with the time they waited, a lower bound that
        counts in the percentiles: a client that stops echoing while it renders must not look fast for it."""
        deadline = time.monotonic() + grace_s
        while self.pressed and time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.005)
            if ready:
                with contextlib.suppress(OSError):
                    self.saw(os.read(master, 65536), time.monotonic())
        if self.pressed:
            self.unanswered.append((self.pressed_at - self.start, time.monotonic() - self.pressed_at))

    def figures(self) -> dict[str, float]:
        latencies = [latency for _, latency in self.samples + self.unanswered]
        if not latencies:
            return {"echo_keys": 0}
        return {
            "echo_p50_ms": statistics.median(latencies) * 1000,
            "echo_p95_ms": percentile(latencies, 0.95) * 1000,
            "echo_max_ms": max(latencies) * 1000,
            "echo_keys": len(latencies),
        }


def measure(client: Client, fakes: Fakes, document: str, rate: float, timeout: float, echo_every: float) -> dict:
    chunk_chars = 20 * CHARS_PER_TOKEN
    fake = fakes.ollama if client.server == "ollama" else fakes.openai
    reply = Reply.text(document, chunk_chars=chunk_chars, delay_s=chunk_chars / CHARS_PER_TOKEN / rate)
    fake.enqueue(reply)
    home = Path(tempfile.mkdtemp(prefix=f"compare-{client.name}-"))
    env = _clean_environment(home)
    env.update(client.env(fakes, home))
    argv = client.command(fakes, home)
    timings_before, requests_before = len(fake.stream_timings), len(fake.requests)
    spawned = time.monotonic()
    pid, master = pty.fork()
    if pid == 0:
        os.execvpe(argv[0], argv, env)
    fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", SIZE[1], SIZE[0], 0, 0))
    result: dict = {}
    seen = bytearray()
    written = 0
    cpu_at_prompt = 0.0
    prompted = False
    echo = Echo(master, echo_every)
    deadline = spawned + timeout
    tail = b""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.005)
        now = time.monotonic()
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:
                break
            if prompted:
                written += len(data)
                tail = (tail + data)[-4096:]
                echo.saw(data, now)
            else:
                seen += data
        if not prompted and client.ready in seen:
            result["first_frame_s"] = now - spawned
            time.sleep(0.5)  # the first frames settle
            result["idle_rss_mb"] = _rss_mb(pid)
            cpu_at_prompt = _cpu_seconds(pid)
            for step in client.steps:
                os.write(master, step.keys)
                time.sleep(step.pause_s)
            prompted = True
            written = len(seen[seen.find(client.ready) + len(client.ready) :]) if not client.steps else 0
            tail = bytes(seen[-4096:])
        if prompted and not echo.start and len(fake.stream_timings) > timings_before and fake.stream_timings[-1]:
            echo.begin(fake.stream_timings[-1][0], bytes(seen))
        shown = client.done(fake, requests_before) if client.done else MARKER.encode() in tail
        if prompted and shown and len(fake.stream_timings) > timings_before:
            sent = fake.stream_timings[-1]
            if len(sent) >= len(reply.deltas):
                result["last_byte_to_screen_s"] = now - sent[-1]
                break
        echo.tick(now)
    sent = fake.stream_timings[-1] if len(fake.stream_timings) > timings_before else []
    if prompted and "last_byte_to_screen_s" not in result and sent and len(sent) >= len(reply.deltas):
        # The server sent it all, the client was still rendering at the timeout: every figure is a lower bound.
        result["last_byte_to_screen_s"] = time.monotonic() - sent[-1]
        result["timed_out"] = 1
    if prompted and "last_byte_to_screen_s" in result:
        result["cpu_s"] = _cpu_seconds(pid) - cpu_at_prompt
        result["bytes_mb"] = written / 1e6
        echo.finish(master, ECHO_GIVE_UP_S)
        result.update(echo.figures())
        result["echo_samples"] = [[round(at, 4), round(latency * 1000, 2)] for at, latency in echo.samples]
        # keys not echoed within ECHO_GIVE_UP_S: (when typed, how long they waited)
        result["echo_unanswered"] = [[round(at, 4), round(latency * 1000, 2)] for at, latency in echo.unanswered]
    else:
        result["failed"] = "no ready marker" if not prompted else "the marker never reached the screen"
        result["output_tail"] = bytes(seen[-600:] if not prompted else tail[-600:]).decode("utf-8", "replace")
    with contextlib.suppress(OSError):
        os.kill(pid, 9)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)
    os.close(master)
    shutil.rmtree(home, ignore_errors=True)
    return result


# A run that timed out stopped these counting early (first frame and idle RSS were taken before).
LOWER_BOUNDS_WHEN_TIMED_OUT = {"cpu_s", "bytes_mb", "last_byte_to_screen_s", "echo_p50_ms", "echo_p95_ms"}


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def _cell(value: float | None, spread: list[float], ours: float | None, is_ours: bool) -> str:
    if value is None:
        return "n/a"
    text = _number(value)
    if len(spread) > 1:
        text += f" ({_number(min(spread))}–{_number(max(spread))})"
    if not is_ours and ours:
        text += f", {_number(value / ours) if value / ours >= 1 else f'{value / ours:.2g}'}×"
    return text


def table(runs: dict[str, list[dict]]) -> list[str]:
    """Markdown: one row per figure, one column per client, medians with the range and the ratio to flashchat."""
    spreads = {name: {f: [r[f] for r in rs if f in r] for f in FIGURES} for name, rs in runs.items()}
    medians = {name: {f: statistics.median(v) if v else None for f, v in s.items()} for name, s in spreads.items()}
    lines = ["| figure | " + " | ".join(runs) + " |", "|---|" + "---|" * len(runs)]
    ours = medians.get("flashchat", {})
    timed_out = {name: any(r.get("timed_out") for r in rs) for name, rs in runs.items()}
    for figure, label in FIGURES.items():
        cells = [_cell(medians[n][figure], spreads[n][figure], ours.get(figure), n == "flashchat") for n in runs]
        if figure in LOWER_BOUNDS_WHEN_TIMED_OUT:
            cells = [
                ("≥ " + cell if timed_out[n] and cell != "n/a" else cell) for n, cell in zip(runs, cells, strict=True)
            ]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    counts = [
        (sum(len(r.get("echo_unanswered", [])) for r in rs), sum(r.get("echo_keys", 0) for r in rs))
        for rs in runs.values()
    ]
    lines.append(
        f"| keys not echoed within {ECHO_GIVE_UP_S:g} s | " + " | ".join(f"{n} of {m}" for n, m in counts) + " |"
    )
    failed = {name: sum("failed" in r for r in rs) for name, rs in runs.items()}
    if any(failed.values()):
        lines.append("")
        lines.append("Failed runs: " + ", ".join(f"{name} {count}" for name, count in failed.items() if count))
    if any(timed_out.values()):
        late = ", ".join(name for name, late in timed_out.items() if late)
        lines += ["", f"≥: {late} had not shown the whole reply when the run timed out (a lower bound)."]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--tokens", type=int, default=20_000)
    parser.add_argument("--rate", default="400", help="tokens per second, comma-separated (400,2000)")
    parser.add_argument("--peers", default="", help="comma-separated: elia,oterm")
    parser.add_argument("--only", default="", help="comma-separated client names to run (default: all)")
    parser.add_argument("--echo-every", type=float, default=0.25, help="seconds between typed keys")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per client run")
    parser.add_argument("--out", type=Path, help="write compare.md, compare.json and echo.svg here")
    parser.add_argument("--report", type=Path, help="only rewrite compare.md and echo.svg from this compare.json")
    args = parser.parse_args()
    if args.report:
        rewrite_report(args.report)
        return
    rates = [float(rate) for rate in args.rate.split(",")]
    document = make_document(args.tokens).rstrip() + f"\n\nThe end {MARKER}\n"
    chosen = clients([peer for peer in args.peers.split(",") if peer])
    if args.only:
        chosen = [client for client in chosen if client.name in args.only.split(",")]
    versions = {}
    for peer in (client.name for client in chosen if client.name in PEER_PACKAGES):
        peer_bin(peer, peer)  # installed before the first run, so no run waits for pip
        versions[peer] = peer_version(peer)
    runs = {rate: {client.name: [] for client in chosen} for rate in rates}
    loads: list[float] = []
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    with FakeOpenAI() as openai, FakeOllama() as ollama:
        fakes = Fakes(openai, ollama)
        for round_number in range(1, args.runs + 1):
            for rate in rates:
                for client in chosen:  # interleaved: each round runs every client once at every rate
                    loads.append(os.getloadavg()[0])
                    result = measure(client, fakes, document, rate, args.timeout, args.echo_every)
                    runs[rate][client.name].append(result)
                    printed = {k: round(v, 4) for k, v in result.items() if isinstance(v, float | int)}
                    print(json.dumps({"rate": rate, client.name: printed, **_failure(result)}), flush=True)
            lines = report(runs, loads, started, versions, args.tokens, round_number)
            if args.out:  # after every round, so a long session stopped early keeps what it measured
                write_out(args.out, lines, runs, loads, started, versions, args.tokens)
    print("\n" + "\n".join(lines))
    if args.out:
        print(f"\nwrote {args.out / 'compare.md'}, compare.json and echo.svg")


def report(
    runs: dict[float, dict[str, list[dict]]],
    loads: list[float],
    started: str,
    versions: dict[str, str],
    tokens: int,
    rounds: int,
) -> list[str]:
    width, height = SIZE
    load_line = f"load average (1 min) during the runs: median {statistics.median(loads):.2f}, max {max(loads):.2f}"
    lines = [
        f"{started}, {platform.machine()} with {os.cpu_count()} cores, {load_line}.",
        "Peers: " + (", ".join(f"{peer} {version}" for peer, version in versions.items()) or "none") + ".",
    ]
    for rate, by_client in runs.items():
        lines += [
            "",
            f"{tokens:,}-token reply at {rate:g} tokens/s, {width}x{height} pty, {rounds} run{'s' * (rounds != 1)}:",
            "",
        ]
        lines += table(by_client)
    return lines


def write_out(
    out: Path,
    lines: list[str],
    runs: dict[float, dict[str, list[dict]]],
    loads: list[float],
    started: str,
    versions: dict[str, str],
    tokens: int,
) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "compare.md").write_text("\n".join(lines) + "\n")
    record = {"started": started, "tokens": tokens, "loads": loads, "versions": versions}
    record["runs"] = {f"{rate:g}": by_client for rate, by_client in runs.items()}
    (out / "compare.json").write_text(json.dumps(record, indent=1))
    write_svg(record, out / "echo.svg")


def rewrite_report(source: Path) -> None:
    """compare.md and echo.svg again from a compare.json (after a change to the table or the plot)."""
    record = json.loads(source.read_text())
    runs = {float(rate): by_client for rate, by_client in record["runs"].items()}
    rounds = max(len(results) for by_client in runs.values() for results in by_client.values())
    lines = report(runs, record["loads"], record["started"], record["versions"], record["tokens"], rounds)
    write_out(source.parent, lines, runs, record["loads"], record["started"], record["versions"], record["tokens"])
    print("\n".join(lines))


def _failure(result: dict) -> dict:
    return {key: result[key] for key in ("failed", "output_tail") if key in result}


if __name__ == "__main__":
    main()
