"""Server settings: flags beat GRADWIRE_* environment variables, which beat the defaults."""

from __future__ import annotations

import pytest

from gradwire.server.config import GiB, MiB, ServerConfig, load_config, parse_bytes


def test_defaults_match_the_issue():
    config = load_config([], environ={})
    assert config.address == "127.0.0.1:50051"
    assert config.session_ttl == 600
    assert config.max_message_bytes == 256 * MiB


def test_every_setting_reads_its_environment_variable():
    environ = {
        "GRADWIRE_ADDRESS": "0.0.0.0:7000", "GRADWIRE_WORKERS": "3", "GRADWIRE_SESSION_TTL": "12.5",
        "GRADWIRE_MAX_SESSIONS": "7", "GRADWIRE_MAX_SESSION_BYTES": "1GiB",
        "GRADWIRE_MAX_REQUEST_BYTES": "64MiB", "GRADWIRE_MAX_MESSAGE_BYTES": "512MiB",
        "GRADWIRE_GRACE_SECONDS": "2", "GRADWIRE_LOG_LEVEL": "debug",
    }
    assert load_config([], environ=environ) == ServerConfig(
        address="0.0.0.0:7000", workers=3, session_ttl=12.5, max_sessions=7, max_session_bytes=GiB,
        max_request_bytes=64 * MiB, max_message_bytes=512 * MiB, grace_seconds=2.0, log_level="DEBUG",
    )


def test_a_flag_beats_the_environment():
    config = load_config(["--address", "127.0.0.1:0", "--workers", "5"],
                         environ={"GRADWIRE_ADDRESS": "0.0.0.0:1", "GRADWIRE_WORKERS": "9"})
    assert (config.address, config.workers) == ("127.0.0.1:0", 5)


@pytest.mark.parametrize("text, expected", [("1024", 1024), ("512KiB", 512 << 10), ("256MiB", 256 * MiB),
                                            ("2GiB", 2 * GiB), ("3g", 3 * GiB)])
def test_byte_sizes(text, expected):
    assert parse_bytes(text) == expected


@pytest.mark.parametrize("argv, environ", [
    (["--workers", "0"], {}),
    (["--max-message-bytes", "2GiB"], {}),  # protobuf cannot encode 2 GiB
    ([], {"GRADWIRE_SESSION_TTL": "soon"}),
    ([], {"GRADWIRE_MAX_REQUEST_BYTES": "12 parsecs"}),
    (["--log-level", "loud"], {}),
])
def test_bad_settings_exit_with_a_usage_error(argv, environ, capsys):
    with pytest.raises(SystemExit) as exited:
        load_config(argv, environ=environ)
    assert exited.value.code == 2
    assert "error" in capsys.readouterr().err
