"""Test certificates (made with openssl, per test) and tokens files for the production tests.

    pki = make_pki(tmp_path)   # pki.ca, pki.server_cert, pki.server_key, pki.client_cert, pki.client_key
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

TOKEN_ALICE = "alice-token-0123456789abcdef"
TOKEN_BOB = "bob-token-fedcba9876543210"


def openssl() -> str:
    path = shutil.which("openssl")
    if path is None:
        pytest.skip("openssl is not installed (apt-get install openssl)")
    return path


@dataclass
class Pki:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    other_ca: Path


def _run(*args: str, cwd: Path) -> None:
    subprocess.run([openssl(), *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def _self_signed(folder: Path, name: str, subject: str) -> None:
    _run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
         "-subj", subject, "-keyout", f"{name}.key", "-out", f"{name}.pem", cwd=folder)


def _signed(folder: Path, name: str, subject: str, extensions: str, ca: str = "ca") -> None:
    _run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj", subject,
         "-keyout", f"{name}.key", "-out", f"{name}.csr", cwd=folder)
    (folder / f"{name}.ext").write_text(extensions + "\n")
    _run("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key", "-CAcreateserial",
         "-days", "2", "-extfile", f"{name}.ext", "-out", f"{name}.pem", cwd=folder)


def make_pki(folder: Path, server_subject: str = "/CN=localhost") -> Pki:
    """A CA, a server certificate for 127.0.0.1/localhost and a client certificate with CN=alice."""
    folder.mkdir(parents=True, exist_ok=True)
    _self_signed(folder, "ca", "/CN=gradwire test CA")
    _self_signed(folder, "other-ca", "/CN=some other CA")
    _signed(folder, "server", server_subject, "subjectAltName=IP:127.0.0.1,DNS:localhost")
    _signed(folder, "client", "/CN=alice/O=gradwire tests", "extendedKeyUsage=clientAuth")
    return Pki(folder / "ca.pem", folder / "server.pem", folder / "server.key", folder / "client.pem",
               folder / "client.key", folder / "other-ca.pem")


def write_tokens(folder: Path) -> Path:
    path = folder / "tokens"
    path.write_text(f"# test principals\nalice:{TOKEN_ALICE}\nbob:{TOKEN_BOB}\n")
    return path
