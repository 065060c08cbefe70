"""`gradwire.client` installs light: importing and using it never imports gradwire.engine."""

from __future__ import annotations

import subprocess
import sys

PROGRAM = """
import sys
import gradwire.client, gradwire.client.cli
from gradwire.client import Client
with Client(sys.argv[1]) as torch:
    a = torch.tensor([2., 3.], requires_grad=True)
    ((a + 3) * (a + 3) * 3).mean().backward()
    assert a.grad.tolist() == [15.0, 18.0], a.grad
loaded = sorted(m for m in sys.modules if m.startswith(("gradwire.engine", "gradwire.server", "torch")))
print(",".join(loaded) or "none")
"""


def test_client_never_imports_the_engine(address):
    result = subprocess.run([sys.executable, "-c", PROGRAM, address], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "none"
