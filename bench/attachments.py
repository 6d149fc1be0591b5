"""Attaching big media files, against the fake Gemini server. Prints numbers; asserts nothing.

    python bench/attachments.py [--runs 3]

For a 20 MB PDF and a 50 MB MP4, each run in a fresh client process (the fake runs in its own process, so
its memory is not counted):
  1. time to ready: `prepare_prompt` for "@file" (type check, streamed sha256 and page count or duration,
     the token count), i.e. until the chip could show it;
  2. time to send: the Files API upload (8 MB chunks, from disk) and the reply;
  3. peak memory: the client's peak RSS (VmHWM) over its RSS just before attaching (SDK imported, one
     request made), against the file's size: the goal is under twice the size.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MB = 1024 * 1024


def make_pdf(path: Path, size: int) -> None:
    """A PDF of 200 pages whose content streams are incompressible bytes, written in 1 MB pieces."""
    with path.open("wb") as stream:
        stream.write(b"%PDF-1.7\n")
        for number in range(200):
            stream.write(b"%d 0 obj\n<< /Type /Page /Parent 2 0 R >>\nendobj\n" % (number + 3))
        stream.write(b"999 0 obj\n<< /Length %d >>\nstream\n" % size)
        while stream.tell() < size - 64:
            stream.write(os.urandom(min(MB, size - 64 - stream.tell())))
        stream.write(b"\nendstream\nendobj\n%%EOF\n")


def make_mp4(path: Path, size: int) -> None:
    """ftyp, a moov with a 3-minute mvhd, then an mdat of incompressible bytes up to `size`."""
    ftyp = (20).to_bytes(4, "big") + b"ftypisom\x00\x00\x02\x00mp41"
    mvhd_body = b"\x00" * 4 + (0).to_bytes(4, "big") * 2 + (1000).to_bytes(4, "big") + (180_000).to_bytes(4, "big")
    mvhd_body += b"\x00" * 80
    mvhd = (8 + len(mvhd_body)).to_bytes(4, "big") + b"mvhd" + mvhd_body
    moov = (8 + len(mvhd)).to_bytes(4, "big") + b"moov" + mvhd
    with path.open("wb") as stream:
        stream.write(ftyp + moov)
        remaining = size - stream.tell() - 8
        stream.write((8 + remaining).to_bytes(4, "big") + b"mdat")
        while remaining > 0:
            piece = os.urandom(min(MB, remaining))
            stream.write(piece)
            remaining -= len(piece)


def _status_kb(field: str) -> int:
    text = Path("/proc/self/status").read_text()
    match = re.search(rf"^{field}:\s+(\d+) kB", text, re.MULTILINE)
    return int(match.group(1)) if match else 0


def child(path: str, url: str) -> None:
    """One attach-and-send in this process; prints one JSON line."""
    from flashchat.config.settings import Settings
    from flashchat.core.prompt import prepare_prompt
    from flashchat.core.session import ChatSession

    async def run() -> dict[str, float]:
        settings = Settings(api_key="test-key", base_url=url, first_token_timeout=120, idle_timeout=120)
        session = ChatSession(settings, working_dir=Path(path).parent)
        await session.count_tokens("warm up: import the SDK, open a connection")
        baseline = _status_kb("VmRSS")
        started = time.perf_counter()
        prepared = await prepare_prompt(session, f"@{Path(path).name} what is in it?", root=Path(path).parent)
        ready = time.perf_counter() - started
        started = time.perf_counter()
        async for _event in session.send(prepared):
            pass
        sent = time.perf_counter() - started
        await session.aclose()
        peak = _status_kb("VmHWM")
        return {
            "ready": ready,
            "sent": sent,
            "peak_over_baseline_mb": (peak - baseline) / 1024,
            "tokens": prepared.total_attachment_tokens,
        }

    print(json.dumps(asyncio.run(run())))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    with tempfile.TemporaryDirectory() as folder:
        files = {"20 MB PDF": (Path(folder) / "spec.pdf", 20 * MB), "50 MB MP4": (Path(folder) / "demo.mp4", 50 * MB)}
        make_pdf(*files["20 MB PDF"])
        make_mp4(*files["50 MB MP4"])
        server = subprocess.Popen(
            [sys.executable, "-m", "flashchat.testing.fake_gemini", "--port", "0", "--delay", "0"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            url = _server_url(server)
            for label, (path, size) in files.items():
                results = []
                for _ in range(args.runs):
                    out = subprocess.run(
                        [sys.executable, __file__, "--child", str(path), url],
                        capture_output=True,
                        text=True,
                        check=True,
                    ).stdout
                    results.append(json.loads(out.strip().splitlines()[-1]))
                ready = [r["ready"] for r in results]
                sent = [r["sent"] for r in results]
                peak = [r["peak_over_baseline_mb"] for r in results]
                print(
                    f"{label}: ready {statistics.median(ready):.3f} s (range {min(ready):.3f}-{max(ready):.3f}), "
                    f"upload+reply {statistics.median(sent):.2f} s (range {min(sent):.2f}-{max(sent):.2f}), "
                    f"peak RSS over baseline {statistics.median(peak):.1f} MB (max {max(peak):.1f}) = "
                    f"{statistics.median(peak) * MB / size:.2f}x the file; tokens {results[0]['tokens']:,} (estimate)"
                )
        finally:
            server.terminate()
            server.wait(10)


def _server_url(server: subprocess.Popen[str]) -> str:
    assert server.stdout is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = server.stdout.readline()
        if match := re.search(r"(http://127\.0\.0\.1:\d+)", line):
            return match.group(1)
    raise RuntimeError("the fake server did not start")


if __name__ == "__main__":
    main()
