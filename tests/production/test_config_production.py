"""The production settings: each reads its GRADWIRE_* variable, and inconsistent ones are refused."""

from __future__ import annotations

import pytest

from gradwire.server.config import MiB, load_config


def test_every_production_setting_reads_its_environment_variable():
    environ = {
        "GRADWIRE_TLS_CERT": "/tls/tls.crt", "GRADWIRE_TLS_KEY": "/tls/tls.key", "GRADWIRE_TLS_CLIENT_CA": "/tls/ca.crt",
        "GRADWIRE_AUTH_TOKENS": "/tokens/tokens", "GRADWIRE_MAX_SESSIONS_PER_PRINCIPAL": "8",
        "GRADWIRE_MAX_BYTES_PER_PRINCIPAL": "64MiB", "GRADWIRE_METRICS_ADDRESS": "0.0.0.0:9090",
        "GRADWIRE_HEALTH_ADDRESS": "0.0.0.0:50052", "GRADWIRE_LOG_FORMAT": "JSON", "GRADWIRE_TRACING": "console",
        "GRADWIRE_ACCESS_LOG": "off",
    }
    config = load_config([], environ=environ)
    assert (config.tls_cert, config.tls_key, config.tls_client_ca) == ("/tls/tls.crt", "/tls/tls.key", "/tls/ca.crt")
    assert (config.auth_tokens, config.max_sessions_per_principal, config.max_bytes_per_principal) == (
        "/tokens/tokens", 8, 64 * MiB)
    assert (config.metrics_address, config.health_address, config.log_format, config.tracing) == (
        "0.0.0.0:9090", "0.0.0.0:50052", "json", "console")
    assert config.access_log == "off"
    flags = load_config(["--log-format", "text", "--max-sessions-per-principal", "0"], environ=environ)
    assert (flags.log_format, flags.max_sessions_per_principal) == ("text", 0)


@pytest.mark.parametrize("argv", [
    ["--tls-cert", "cert.pem"],                                   # no key
    ["--tls-key", "key.pem"],                                     # no certificate
    ["--tls-client-ca", "ca.pem"],                                # mTLS without TLS
    ["--log-format", "xml"],
    ["--tracing", "sometimes"],
    ["--max-bytes-per-principal", "-1"],
])
def test_inconsistent_settings_exit_with_a_usage_error(argv, capsys):
    with pytest.raises(SystemExit) as exited:
        load_config(argv, environ={})
    assert exited.value.code == 2 and "error" in capsys.readouterr().err


def test_tracing_without_opentelemetry_says_how_to_get_it(monkeypatch):
    import builtins

    from gradwire.server import ServerConfig, create_server

    real_import = builtins.__import__

    def no_opentelemetry(name, *args, **kwargs):
        if name.startswith("opentelemetry"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_opentelemetry)
    with pytest.raises(RuntimeError, match=r"pip install 'gradwire\[otel\]'"):
        create_server("127.0.0.1:0", ServerConfig(tracing="on"))
