"""Large tensors go through UploadTensor / DownloadTensor by themselves, whatever the message limit."""

from __future__ import annotations

import collections
import io
import sys

import numpy as np
import pytest

from gradwire.client import Client
from gradwire.client.progress import progress_bar

MiB = 1 << 20


def test_large_leaf_and_grad_stream_under_a_small_message_limit(start_server):
    limit = 2 * MiB
    _, address = start_server(max_message_bytes=limit)
    data = np.arange(2 * MiB, dtype=np.float32) / MiB  # 8 MiB: four times the limit
    with Client(address, max_message_bytes=limit) as torch:
        x = torch.from_numpy(data)
        x.requires_grad_(True)
        y = (x * x).sum()
        y.backward()
        np.testing.assert_allclose(x.grad.numpy(), 2 * data, rtol=1e-6)
        doubled = (x * 2).detach()
        np.testing.assert_allclose(doubled.numpy(), 2 * data, rtol=1e-6)
        counts = collections.Counter(torch.rpc_counts)
    assert counts["UploadTensor"] == 1
    assert counts["DownloadTensor"] == 2  # the grad, then the doubled values


def test_default_client_uploads_what_would_crowd_a_request(address):
    data = np.ones((3, MiB), dtype=np.float32)  # 12 MiB, above the SDK's inline budget
    small = np.ones(4, dtype=np.float32)
    with Client(address) as torch:
        big = torch.tensor(data, requires_grad=True)
        tiny = torch.tensor(small, requires_grad=True)
        (big.sum() + tiny.sum()).backward()
        assert big.grad.shape == (3, MiB)
        assert float(big.grad.numpy().sum()) == data.size
        assert tiny.grad.tolist() == [1.0] * 4
        assert torch.rpc_counts["UploadTensor"] == 1  # only the big leaf


def test_progress_bar_is_off_when_stderr_is_not_a_terminal(capsys):
    bar = progress_bar(1 << 30, "upload")
    bar.update(1 << 29)
    bar.close()
    assert capsys.readouterr().err == ""


class Terminal(io.StringIO):
    """A stderr that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def test_progress_bar_draws_on_a_terminal(monkeypatch):
    pytest.importorskip("tqdm", reason="tqdm draws the bars")
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    bar = progress_bar(64 << 20, "upload v1")
    bar.update(32 << 20)
    bar.refresh()
    drawn = terminal.getvalue()
    bar.close()
    assert "upload v1" in drawn and "50%" in drawn


def test_dropped_values_are_released_before_a_large_upload(start_server):
    """A loop re-creating a large leaf never has the server hold the old one (and its grad) and the
    new upload at once: with room for little more than two leaves, every round trip still fits."""
    leaf_bytes = 4 * MiB
    _, address = start_server(max_session_bytes=leaf_bytes * 5 // 2)
    data = np.arange(leaf_bytes // 4, dtype=np.float32)
    with Client(address) as torch:
        for step in range(3):
            x = torch.tensor(data + step, requires_grad=True)
            (x * 2).sum().backward()
            assert np.array_equal(x.grad.numpy(), np.full_like(data, 2))
        counts = collections.Counter(torch.rpc_counts)
    assert counts["UploadTensor"] == 3 and counts["DownloadTensor"] == 3


@pytest.mark.parametrize("make", [
    lambda a: a.astype(a.dtype.newbyteorder(">")),  # big-endian: sent little-endian
    lambda a: a.reshape(512, -1).T,                 # not contiguous: sent in C order
    lambda a: a[::2],                               # strided
], ids=["big-endian", "transposed", "strided"])
def test_large_leaves_stream_with_their_values_and_grads_exact(address, make):
    import torch as real

    data = make(np.random.default_rng(3).standard_normal(2 * MiB // 4 * 2).astype(np.float64))
    with Client(address) as torch:
        x = torch.tensor(data, requires_grad=True)
        (x * x).sum().backward()
        grad, value = x.grad.numpy(), x.detach().numpy()
        counts = collections.Counter(torch.rpc_counts)
    expected = real.tensor(np.ascontiguousarray(data).astype(np.float64), requires_grad=True)
    (expected * expected).sum().backward()
    assert np.array_equal(value, np.ascontiguousarray(data).astype(np.float64))
    assert np.array_equal(grad, expected.grad.numpy())
    assert counts["UploadTensor"] == 1 and counts["DownloadTensor"] >= 1  # both too large to send inline
