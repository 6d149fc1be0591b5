"""One-shot mode speed, against the fake Gemini server. Prints numbers; asserts nothing.

    python bench/oneshot.py [--runs 15]

Measures
  1. `flashchat --version` wall time (process start to exit).
  2. Time to first character: from the fake writing the first chunk to the first byte on flashchat's stdout,
     and from process start to that byte.
  3. A 20,000-token reply in 1,000 chunks:
     a. at full speed: client total vs the server's own send time, and the client time per chunk;
     b. paced at 2 ms a chunk, so the client is idle when each chunk lands: per chunk, the delay from the fake
        writing its bytes to its text appearing on stdout (median, p95).
  4. Peak RSS of the client for the 20,000-token reply.
Time stamps on both sides use time.monotonic(), which is one clock for all processes on Linux.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

from flashchat.testing.fake_gemini import FakeGemini, Reply

CHUNKS = 1000
CHARS_PER_CHUNK = 80  # about 20 tokens each: 20,000 tokens in all


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def environment(fake: FakeGemini, home: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GEMINI_", "GOOGLE_"))}
    env.update(
        GEMINI_API_KEY=fake.api_key,
        GOOGLE_GEMINI_BASE_URL=fake.url,
        XDG_CONFIG_HOME=f"{home}/config",
        XDG_DATA_HOME=f"{home}/data",
    )
    return env


def command() -> list[str]:
    script = os.path.join(os.path.dirname(sys.executable), "flashchat")
    return [script] if os.path.exists(script) else [sys.executable, "-m", "flashchat"]


def run_reading_stdout(args: list[str], env: dict[str, str]) -> tuple[float, list[tuple[float, int]], int]:
    """Start flashchat; return (start time, [(time, total bytes so far)] per read, peak RSS in KiB)."""
    started = time.monotonic()
    process = subprocess.Popen(
        [*command(), *args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env
    )
    reads, total = [], 0
    fd = process.stdout.fileno()
    while data := os.read(fd, 1 << 16):
        total += len(data)
        reads.append((time.monotonic(), total))
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"flashchat exited {process.returncode}")
    return started, reads, usage.ru_maxrss


def bench_version(runs: int) -> None:
    times = []
    for _ in range(runs):
        started = time.monotonic()
        subprocess.run([*command(), "--version"], check=True, capture_output=True)
        times.append(time.monotonic() - started)
    print(
        f"--version wall time: median {statistics.median(times) * 1000:.0f} ms, "
        f"p90 {percentile(times, 0.9) * 1000:.0f} ms ({runs} runs)"
    )


def bench_first_character(fake: FakeGemini, env: dict[str, str], runs: int) -> None:
    after_first_byte, after_start = [], []
    for _ in range(runs):
        fake.enqueue(Reply.text("Hello! " * 20, chunk_chars=7))
        started, reads, _ = run_reading_stdout(["-p", "hi"], env)
        first_chunk_sent = fake.stream_timings[-1][0]
        after_first_byte.append(reads[0][0] - first_chunk_sent)
        after_start.append(reads[0][0] - started)
    print(
        f"first character after the first chunk was sent: median {statistics.median(after_first_byte) * 1000:.1f} ms, "
        f"p90 {percentile(after_first_byte, 0.9) * 1000:.1f} ms"
    )
    print(f"process start to first character: median {statistics.median(after_start) * 1000:.0f} ms")


def big_reply(delay_s: float) -> Reply:
    pieces = [
        f"{i:05d} "
        + "lorem ipsum dolor sit amet, consectetur adipiscing elit sed do eiusmod tempor "[: CHARS_PER_CHUNK - 6]
        for i in range(CHUNKS)
    ]
    return Reply.text("".join(pieces), chunks=pieces, delay_s=delay_s)


def bench_big_reply(fake: FakeGemini, env: dict[str, str], runs: int) -> None:
    ratios, per_chunk, rss, server_times, client_times = [], [], [], [], []
    for _ in range(runs):
        fake.enqueue(big_reply(0.0))
        _, reads, peak = run_reading_stdout(["-p", "write a lot"], env)
        sent = fake.stream_timings[-1]
        server_time = sent[-1] - sent[0]
        client_time = reads[-1][0] - sent[0]
        server_times.append(server_time)
        client_times.append(client_time)
        ratios.append(client_time / server_time)
        per_chunk.append(client_time / CHUNKS)
        rss.append(peak)
    print(
        f"20,000 tokens / {CHUNKS} chunks at full speed: server send {statistics.median(server_times) * 1000:.0f} ms, "
        f"client until last character {statistics.median(client_times) * 1000:.0f} ms "
        f"(x{statistics.median(ratios):.2f}); client time per chunk {statistics.median(per_chunk) * 1000:.3f} ms"
    )
    print(f"peak RSS: median {statistics.median(rss) / 1024:.1f} MiB")

    delays = []
    for _ in range(max(1, runs // 3)):
        fake.enqueue(big_reply(0.002))
        _, reads, _ = run_reading_stdout(["-p", "write a lot"], env)
        sent = fake.stream_timings[-1]
        # Chunk i's text is complete on stdout once (i + 1) * CHARS_PER_CHUNK bytes have been read.
        read_index = 0
        for i in range(CHUNKS):
            needed = (i + 1) * CHARS_PER_CHUNK
            while reads[read_index][1] < needed:
                read_index += 1
            delays.append(reads[read_index][0] - sent[i])
    print(
        f"paced at 2 ms/chunk, chunk written by the fake to its text on stdout: "
        f"median {statistics.median(delays) * 1000:.2f} ms, p95 {percentile(delays, 0.95) * 1000:.2f} ms "
        f"({len(delays)} chunks)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, command: {' '.join(command())}")
    bench_version(args.runs)
    with FakeGemini() as fake, tempfile.TemporaryDirectory() as home:
        env = environment(fake, home)
        bench_first_character(fake, env, args.runs)
        bench_big_reply(fake, env, max(3, args.runs // 3))


if __name__ == "__main__":
    main()
