"""One-shot mode with media: `-f shot.png`, a PNG piped on stdin, and a binary of no known type refused."""

from __future__ import annotations

import base64
import subprocess
import sys
from pathlib import Path

from flashchat.testing.fake_gemini import FakeGemini
from media_samples import pdf, png


def _run(cwd: Path, args: list[str], env: dict, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "flashchat", *args], input=stdin, capture_output=True, env=env, cwd=cwd, timeout=60
    )


def _inline_bytes(fake: FakeGemini) -> list[tuple[str, bytes]]:
    found = []
    for part in fake.generate_requests()[-1].contents[0]["parts"]:
        if "inlineData" in part:
            data = part["inlineData"]["data"]
            found.append((part["inlineData"]["mime_type"], base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))))
    return found


def test_a_png_piped_on_stdin_is_sent_as_an_image(fake: FakeGemini, cli_env: dict, tmp_path: Path) -> None:
    result = _run(tmp_path, ["-p", "describe"], cli_env, stdin=png())
    assert result.returncode == 0, result.stderr
    assert _inline_bytes(fake) == [("image/png", png())]
    assert fake.generate_requests()[-1].user_texts() == ["describe"]
    assert "\ufffd" not in result.stderr.decode()


def test_files_named_with_f_go_as_media(fake: FakeGemini, cli_env: dict, tmp_path: Path) -> None:
    (tmp_path / "shot.png").write_bytes(png())
    (tmp_path / "spec.pdf").write_bytes(pdf())
    result = _run(tmp_path, ["-p", "compare", "-f", "shot.png", "-f", "spec.pdf"], cli_env)
    assert result.returncode == 0, result.stderr
    assert _inline_bytes(fake) == [("image/png", png()), ("application/pdf", pdf())]


def test_an_unknown_binary_on_stdin_is_refused_with_exit_2(fake: FakeGemini, cli_env: dict, tmp_path: Path) -> None:
    result = _run(tmp_path, ["-p", "what is this"], cli_env, stdin=b"\x7fELF\x02\x01\x01" + b"\x00" * 4000)
    assert result.returncode == 2
    lines = result.stderr.decode().splitlines()
    assert len(lines) == 1 and "stdin: not a type flashchat can attach" in lines[0]
    assert fake.generate_requests() == []
