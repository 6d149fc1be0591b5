"""flashchat side by side with other terminal chat clients, on one fake OpenAI-compatible stream. Prints numbers.

    python bench/compare.py [--runs 3] [--tokens 20000] [--rate 400] [--peers elia] [--json out.json]

Every client runs on a real pseudo-terminal at 120x40 and gets the same reply from
`flashchat.testing.fake_openai`: the bench/tui.py document (prose, lists, tables, a 300-line code block) at
`--rate` tokens/s in ~20-token chunks, ending with a marker word. Clients are interleaved run after run, so a
change in the machine's load hits all of them alike. Per client and run:
  first frame       process start to the client's first screen (its ready marker in the output)
  idle RSS          the client's own resident memory once ready (VmRSS)
  CPU               user + sys seconds of the client's process from the prompt until the reply is on screen
  bytes             bytes the client wrote to the terminal from the prompt until the reply is on screen
  last byte -> screen  from the server's last byte to the marker word appearing on the terminal
The clients:
  flashchat   this checkout, provider "openai" pointed at the fake
  textual     a bare Textual app: one Markdown widget fed by Markdown.get_stream, the stream read with urllib
  floor       a stdlib client that writes each delta to the terminal as it arrives (what `cat` of the text costs)
  elia        with --peers elia: elia-chat from PyPI in a throwaway virtualenv, model "openai/…" at the fake
oterm talks to Ollama's own API, which the fake does not speak, so it is not in this harness.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import pty
import select
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

from flashchat.testing.fake_openai import FakeOpenAI, Reply
from tui import CHARS_PER_TOKEN, make_document  # bench/ is on sys.path when this runs as a script

SIZE = (120, 40)
MARKER = "zqxendofreply"
PEER_VENVS = Path(tempfile.gettempdir()) / "flashchat-compare-venvs"
PEER_PACKAGES = {"elia": "elia-chat"}

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
class Client:
    name: str
    command: Callable[[FakeOpenAI, Path], list[str]]
    ready: bytes  # seen in the output once the first screen is up
    prompt: bytes = b""  # typed once ready ("" when the command line already asks)
    env: Callable[[FakeOpenAI, Path], dict[str, str]] = field(default=lambda fake, home: {})


def _flashchat_env(fake: FakeOpenAI, home: Path) -> dict[str, str]:
    config = home / "config" / "flashchat" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(f'provider = "openai"\nbase_url = "{fake.url}"\nmodel = "gemini-3.5-flash"\n')
    config.chmod(0o600)
    return {"OPENAI_API_KEY": fake.api_key}


def _elia_env(fake: FakeOpenAI, home: Path) -> dict[str, str]:
    for config_dir in (home / "config" / "elia", home / ".config" / "elia"):
        config_dir.mkdir(parents=True, exist_ok=True)
        (config_dir / "config.toml").write_text(
            'default_model = "openai/fake"\n[[models]]\nname = "openai/fake"\n'
            f'api_base = "{fake.url}"\napi_key = "{fake.api_key}"\n'
        )
    return {"OPENAI_API_KEY": fake.api_key, "OPENAI_BASE_URL": fake.url}


def clients(peers: list[str]) -> list[Client]:
    chosen = [
        Client("flashchat", lambda fake, home: [sys.executable, "-m", "flashchat"], b"thinking", b"go", _flashchat_env),
        Client(
            "textual",
            lambda fake, home: [sys.executable, "-c", BARE_TEXTUAL, fake.url, fake.api_key],
            b"bare textual ready",
            b"go",
        ),
        Client("floor", lambda fake, home: [sys.executable, "-c", FLOOR, fake.url, fake.api_key], b"ready"),
    ]
    if "elia" in peers:
        chosen.append(
            Client(
                "elia",
                lambda fake, home: [str(peer_bin("elia", "elia")), "-m", "openai/fake", "go"],
                b"\x1b[?1049h",  # the alternate screen: its first frame follows
                env=_elia_env,
            )
        )
    return chosen


def peer_bin(peer: str, script: str) -> Path:
    """The peer's console script in its throwaway virtualenv, installed from PyPI on first use."""
    venv = PEER_VENVS / peer
    if not (venv / "bin" / script).exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", PEER_PACKAGES[peer]], check=True)
    return venv / "bin" / script


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def measure(client: Client, fake: FakeOpenAI, document: str, rate: float, timeout: float) -> dict[str, float]:
    chunk_chars = 20 * CHARS_PER_TOKEN
    fake.enqueue(Reply.text(document, chunk_chars=chunk_chars, delay_s=chunk_chars / CHARS_PER_TOKEN / rate))
    home = Path(tempfile.mkdtemp(prefix=f"compare-{client.name}-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GEMINI_", "GOOGLE_", "OPENAI_"))}
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_DATA_HOME=str(home / "data"),
        TERM="xterm-256color",
        COLUMNS=str(SIZE[0]),
        LINES=str(SIZE[1]),
    )
    env.update(client.env(fake, home))
    argv = client.command(fake, home)
    timings_before = len(fake.stream_timings)
    spawned = time.monotonic()
    pid, master = pty.fork()
    if pid == 0:
        os.execvpe(argv[0], argv, env)
    fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", SIZE[1], SIZE[0], 0, 0))
    result: dict[str, float] = {}
    seen = bytearray()
    written = 0
    cpu_at_prompt = 0.0
    prompted = False
    deadline = spawned + timeout
    tail = b""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.02)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:
                break
            if prompted:
                written += len(data)
                tail = (tail + data)[-4096:]
            else:
                seen += data
        now = time.monotonic()
        if not prompted and client.ready in seen:
            result["first_frame_s"] = now - spawned
            time.sleep(0.5)  # the first frames settle
            result["idle_rss_mb"] = _rss_mb(pid)
            cpu_at_prompt = _cpu_seconds(pid)
            if client.prompt:
                os.write(master, client.prompt)
                time.sleep(0.2)
                os.write(master, b"\r")
            prompted = True
            written = len(seen[seen.find(client.ready) + len(client.ready) :]) if not client.prompt else 0
            tail = bytes(seen[-4096:])
        if prompted and MARKER.encode() in tail and len(fake.stream_timings) > timings_before:
            sent = fake.stream_timings[-1]
            if sent:
                result["last_byte_to_screen_s"] = now - sent[-1]
                break
    if prompted and "last_byte_to_screen_s" in result:
        result["cpu_s"] = _cpu_seconds(pid) - cpu_at_prompt
        result["bytes_mb"] = written / 1e6
    with contextlib.suppress(OSError):
        os.kill(pid, 9)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)
    os.close(master)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--tokens", type=int, default=20_000)
    parser.add_argument("--rate", type=float, default=400.0, help="tokens per second")
    parser.add_argument("--peers", default="", help="comma-separated: elia")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per client run")
    parser.add_argument("--json", type=Path, help="also write every run here")
    args = parser.parse_args()
    document = make_document(args.tokens).rstrip() + f"\n\nThe end {MARKER}\n"
    chosen = clients([peer for peer in args.peers.split(",") if peer])
    runs: dict[str, list[dict[str, float]]] = {client.name: [] for client in chosen}
    loads = []
    with FakeOpenAI() as fake:
        for _ in range(args.runs):
            for client in chosen:  # interleaved: each round runs every client once
                loads.append(os.getloadavg()[0])
                runs[client.name].append(measure(client, fake, document, args.rate, args.timeout))
                print(json.dumps({client.name: runs[client.name][-1]}), flush=True)
    figures = ["first_frame_s", "idle_rss_mb", "cpu_s", "bytes_mb", "last_byte_to_screen_s"]
    medians = {
        name: {f: statistics.median(v) if (v := [r[f] for r in rs if f in r]) else None for f in figures}
        for name, rs in runs.items()
    }
    width, height = SIZE
    print(f"\n{args.tokens:,}-token reply at {args.rate:g} tokens/s, {width}x{height} pty, median of {args.runs} runs")
    print(f"load average (1 min) during the runs: median {statistics.median(loads):.2f}, max {max(loads):.2f}\n")
    print("| figure | " + " | ".join(medians) + " |")
    print("|---|" + "---|" * len(medians))
    ours = medians["flashchat"]
    for figure in figures:
        cells = []
        for name, values in medians.items():
            value = values[figure]
            if value is None:
                cells.append("n/a")
                continue
            spread = [r[figure] for r in runs[name] if figure in r]
            text = f"{value:.3g} ({min(spread):.3g}–{max(spread):.3g})"
            if name != "flashchat" and ours[figure]:
                text += f", {value / ours[figure]:.2g}×"
            cells.append(text)
        print(f"| {figure} | " + " | ".join(cells) + " |")
    if args.json:
        args.json.write_text(json.dumps({"runs": runs, "medians": medians, "loads": loads}, indent=1))


if __name__ == "__main__":
    main()
