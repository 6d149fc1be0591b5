"""Config file, environment and `flashchat config ...`: clear one-line errors, 0600 files, masked keys."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from flashchat.cli.main import main
from flashchat.config.settings import Settings, load_settings
from support import assert_one_line_config_error

KEY = "fake-key-D-but-long-enough-key-1234"


def test_defaults_without_a_file(config_file: Path) -> None:
    settings = load_settings(config_file, environ={})
    assert settings == Settings()
    assert (settings.model, settings.thinking_level, settings.api_key) == ("gemini-3.5-flash", "medium", "")


def test_file_values_and_environment_precedence(config_file: Path) -> None:
    config_file.write_text(
        'api_key = "from-file"\nbase_url = "http://file"\nthinking_level = "low"\nidle_timeout = 5\n'
    )
    settings = load_settings(config_file, environ={})
    assert (settings.api_key, settings.base_url, settings.thinking_level) == ("from-file", "http://file", "low")
    assert settings.idle_timeout == 5.0 and isinstance(settings.idle_timeout, float)
    env = {"GOOGLE_API_KEY": "google", "GEMINI_API_KEY": "gemini", "GOOGLE_GEMINI_BASE_URL": "http://env"}
    settings = load_settings(config_file, environ=env)
    assert (settings.api_key, settings.base_url) == ("gemini", "http://env")
    assert settings.origins["api_key"] == "GEMINI_API_KEY"
    assert load_settings(config_file, environ={"GOOGLE_API_KEY": "google"}).api_key == "google"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('model = "x"\nthinking_level = \n', "line 2, column 18: invalid TOML: Invalid value"),
        ('modle = "gemini"\n', "line 1: unknown key 'modle' (did you mean 'model'?); known keys: model, "),
        ('show_thoughts = "yes"\n', "line 1: show_thoughts = 'yes' is not allowed; use true or false"),
        ("max_output_tokens = 0\n", "line 1: max_output_tokens = 0 is not allowed; use a whole number >= 1"),
        ('\n\nidle_timeout = "soon"\n', "line 3: idle_timeout = 'soon' is not allowed; use a number >= 1"),
        ("[endpoints]\nx = 1\n", "line 2: endpoints.x must be a table: write [endpoints.x] followed by keys"),
    ],
)
def test_config_errors_are_one_line_naming_file_line_and_what_is_allowed(
    config_file: Path, text: str, expected: str
) -> None:
    assert_one_line_config_error(config_file, text, expected)


def test_cli_reports_config_errors_with_exit_2(config_file: Path, capsys: pytest.CaptureFixture) -> None:
    config_file.write_text("model = [1, 2\n")
    assert main(["config", "show"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"flashchat: {config_file}: line ") and err.count("\n") == 1


def test_config_set_writes_0600_and_show_masks_the_key(
    config_file: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    config_file.parent.rmdir()
    assert main(["config", "set", "api_key", KEY]) == 0
    assert main(["config", "set", "thinking_level", "high"]) == 0
    assert main(["config", "set", "show_thoughts", "on"]) == 0
    assert main(["config", "set", "max_output_tokens", "2048"]) == 0
    assert stat.S_IMODE(config_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(config_file.parent.stat().st_mode) == 0o700
    settings = load_settings(config_file, environ={})
    assert (settings.api_key, settings.thinking_level, settings.show_thoughts) == (KEY, "high", True)
    assert settings.max_output_tokens == 2048
    capsys.readouterr()

    assert main(["config", "show"]) == 0
    shown = capsys.readouterr().out
    assert KEY not in shown and 'api_key = "****1234"  # config' in shown
    assert 'thinking_level = "high"  # config' in shown and 'model = "gemini-3.5-flash"  # default' in shown

    monkeypatch.setenv("GEMINI_API_KEY", "env-key-wins-over-the-file")
    main(["config", "show"])
    assert "# GEMINI_API_KEY" in capsys.readouterr().out


def test_config_set_rejects_bad_values_without_touching_the_file(
    config_file: Path, capsys: pytest.CaptureFixture
) -> None:
    config_file.write_text('model = "keep-me"\n')
    assert main(["config", "set", "thinking_level", "max"]) == 2
    assert main(["config", "set", "idle_timeout", "soon"]) == 2
    assert main(["config", "set", "colour", "blue"]) == 2
    err = capsys.readouterr().err
    assert "thinking_level = 'max' is not allowed; use one of minimal, low, medium, high" in err
    assert "unknown key 'colour'" in err
    assert config_file.read_text() == 'model = "keep-me"\n'


def test_config_unset_and_path(config_file: Path, capsys: pytest.CaptureFixture) -> None:
    main(["config", "set", "temperature", "0.5"])
    assert load_settings(config_file, environ={}).temperature == 0.5
    main(["config", "unset", "temperature"])
    assert load_settings(config_file, environ={}).temperature is None
    capsys.readouterr()
    main(["config", "path"])
    assert capsys.readouterr().out.strip() == str(config_file)


def test_api_key_can_be_read_from_stdin(
    config_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO(KEY + "\n"))
    assert main(["config", "set", "api_key", "-"]) == 0
    assert load_settings(config_file, environ={}).api_key == KEY
    assert KEY not in capsys.readouterr().out


def test_exposed_key_file_gets_a_warning(
    config_file: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """An editor may have rewritten the file 0644: say so (the run still fails later for want of a server)."""
    config_file.write_text(f'api_key = "{KEY}"\nbase_url = "http://127.0.0.1:9"\nconnect_timeout = 0.2\n')
    config_file.chmod(0o644)
    monkeypatch.setattr("sys.stdin", open("/dev/null"))  # noqa: SIM115
    main(["-p", "hi"])
    err = capsys.readouterr().err
    assert "others can read it; run chmod 600" in err and KEY not in err
