"""Config writes keep the user's file: comments and layout survive, a symlink is written through, and a
read-only config directory is one clear line with exit 2."""

from __future__ import annotations

import ctypes
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from flashchat.cli.main import main
from flashchat.config.settings import load_settings
from support import ENV_VARS_TO_CLEAR

PR_CAPBSET_DROP, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 24, 1, 2  # <linux/prctl.h>, <linux/capability.h>

COMMENTED = """\
# flashchat config, kept in my dotfiles
model = "gemini-3.5-flash"     # the default, written down anyway

thinking_level    = 'low'      # single quotes, extra spaces: mine

# Named endpoints below.
[endpoints.local]
provider = "openai"   # llama.cpp on the laptop
base_url = "http://127.0.0.1:8080/v1"
"""


def test_config_set_keeps_comments_and_layout_byte_for_byte(config_file: Path) -> None:
    config_file.write_text(COMMENTED)
    assert main(["config", "set", "thinking_level", "high"]) == 0
    expected = COMMENTED.replace("thinking_level    = 'low'", 'thinking_level    = "high"')
    assert config_file.read_text() == expected
    assert stat.S_IMODE(config_file.stat().st_mode) == 0o600


def test_config_set_of_a_new_key_and_unset_leave_the_other_lines_alone(config_file: Path) -> None:
    config_file.write_text(COMMENTED)
    assert main(["config", "set", "theme", "nord"]) == 0
    text = config_file.read_text()
    assert 'theme = "nord"\n' in text
    assert text == COMMENTED.replace("mine\n", 'mine\ntheme = "nord"\n', 1)
    assert load_settings(config_file, environ={}).theme == "nord"

    assert main(["config", "unset", "theme"]) == 0
    assert main(["config", "unset", "model"]) == 0
    text = config_file.read_text()
    assert "theme" not in text and "gemini-3.5-flash" not in text
    assert "# flashchat config, kept in my dotfiles\n" in text
    assert "thinking_level    = 'low'      # single quotes, extra spaces: mine\n" in text
    assert 'provider = "openai"   # llama.cpp on the laptop\n' in text


def test_config_unset_of_an_absent_key_does_not_touch_the_file(config_file: Path) -> None:
    config_file.write_text(COMMENTED)
    config_file.chmod(0o640)
    assert main(["config", "unset", "temperature"]) == 0
    assert config_file.read_text() == COMMENTED and stat.S_IMODE(config_file.stat().st_mode) == 0o640


def test_a_symlinked_config_is_written_through_and_the_link_stays(config_file: Path, tmp_path: Path) -> None:
    dotfiles = tmp_path / "dotfiles"
    dotfiles.mkdir()
    real = dotfiles / "flashchat.toml"
    real.write_text(COMMENTED)
    config_file.symlink_to(real)
    assert main(["config", "set", "thinking_level", "minimal"]) == 0
    assert config_file.is_symlink() and os.readlink(config_file) == str(real)
    assert 'thinking_level    = "minimal"      # single quotes, extra spaces: mine' in real.read_text()
    assert stat.S_IMODE(real.stat().st_mode) == 0o600
    assert sorted(p.name for p in dotfiles.iterdir()) == ["flashchat.toml"]  # no temp file left behind
    assert sorted(p.name for p in config_file.parent.iterdir()) == ["config.toml"]


def _without_root_file_powers() -> None:
    """Root ignores mode bits (CAP_DAC_OVERRIDE): drop that power from the child, as an ordinary user lacks it."""
    if os.geteuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
        if libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def test_a_read_only_config_directory_is_one_line_and_exit_2(config_file: Path, isolated_home: Path) -> None:
    config_file.write_text(COMMENTED)
    config_file.parent.chmod(0o500)  # closed to others too, so nothing "fixes" it to 0700
    env = {key: value for key, value in os.environ.items() if key not in ENV_VARS_TO_CLEAR}
    try:
        result = subprocess.run(
            [sys.executable, "-m", "flashchat", "config", "set", "thinking_level", "high"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            preexec_fn=_without_root_file_powers,
        )
    finally:
        config_file.parent.chmod(0o700)
    assert result.returncode == 2, result.stderr
    assert result.stderr == (
        f"flashchat: {config_file}: cannot write the config file (Permission denied); "
        f"make {config_file.parent} writable or edit the file by hand\n"
    )
    assert result.stdout == ""
    assert config_file.read_text() == COMMENTED


@pytest.mark.parametrize("key", ["theme", "api_key"])
def test_the_writer_other_code_calls_keeps_comments(config_file: Path, key: str) -> None:
    """update_config_file is what the theme picker, the key screen and plain mode's /key call."""
    from flashchat.config.settings import update_config_file

    config_file.write_text(COMMENTED)
    update_config_file(config_file, key, "value-long-enough-for-a-key-1234")
    assert config_file.read_text().startswith(COMMENTED.split("\n\n")[0])
    assert "# Named endpoints below.\n[endpoints.local]\n" in config_file.read_text()
