"""Every module against torch with the same weights: outputs, input and parameter grads, buffers after a
training-mode call, and state_dict round trips both ways (engine and SDK)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

# name: (constructor arguments, input shapes, integer input?)
MODULES = {
    "Linear": ((5, 3), [(4, 5)]),
    "Linear_no_bias": ((5, 3, False), [(4, 5)]),
    "Bilinear": ((3, 4, 2), [(5, 3), (5, 4)]),
    "Conv1d": ((2, 3, 3), [(2, 2, 8)]),
    "Conv2d": ((2, 4, 3), [(2, 2, 6, 6)]),
    "BatchNorm1d": ((3,), [(6, 3)]),
    "BatchNorm2d": ((2,), [(3, 2, 4, 4)]),
    "LayerNorm": ((4,), [(3, 4)]),
    "GroupNorm": ((2, 4), [(3, 4, 5)]),
    "Embedding": ((10, 3), ["indices"]),
    "Flatten": ((), [(2, 3, 4)]),
    "Unflatten": ((1, (2, 2)), [(3, 4)]),
    "Identity": ((), [(3, 4)]),
    "MaxPool2d": ((2,), [(1, 2, 4, 4)]),
    "AvgPool2d": ((2,), [(1, 2, 4, 4)]),
    "AdaptiveAvgPool2d": (((2, 2),), [(1, 2, 4, 4)]),
    "Dropout_eval": ((0.5,), [(3, 4)]),
    "ReLU": ((), [(3, 4)]), "Sigmoid": ((), [(3, 4)]), "Tanh": ((), [(3, 4)]),
    "Softmax": ((1,), [(3, 4)]), "LogSoftmax": ((1,), [(3, 4)]), "LeakyReLU": ((0.2,), [(3, 4)]),
    "ELU": ((), [(3, 4)]), "GELU": ((), [(3, 4)]), "SiLU": ((), [(3, 4)]), "Softplus": ((), [(3, 4)]),
    "Hardtanh": ((), [(3, 4)]), "ReLU6": ((), [(3, 4)]),
}


def _inputs(shapes, rng):
    return [rng.integers(0, 10, (2, 3)) if shape == "indices" else rng.standard_normal(shape).astype(np.float32) * 2
            for shape in shapes]


def _run(m, name, args, arrays, weights):
    class_name = name.split("_")[0]
    module = getattr(m.nn, class_name)(*args)
    if name == "Dropout_eval":
        module.eval()
    if weights is not None:
        module.load_state_dict(weights)
    inputs = [m.tensor(a) if a.dtype.kind in "iu" else m.tensor(a, requires_grad=True) for a in arrays]
    out = module(*inputs)
    seed = np.linspace(-1, 1, int(np.prod(tuple(out.shape)))).reshape(tuple(out.shape)).astype(np.float32)
    (out * m.tensor(seed)).sum().backward()
    grads = [None if not x.requires_grad else x.grad.tolist() for x in inputs]
    params = {key: p.grad.tolist() for key, p in module.named_parameters()}
    state = {key: np.asarray(value.tolist()) for key, value in module.state_dict().items()}
    return out.tolist(), grads, params, state


@pytest.mark.parametrize("name", MODULES)
def test_module_matches_torch(name, backend):
    args, shapes = MODULES[name]
    arrays = _inputs(shapes, np.random.default_rng(len(name)))
    torch.manual_seed(0)
    reference = getattr(torch.nn, name.split("_")[0])(*args)
    weights = {key: value.detach().numpy().copy() for key, value in reference.state_dict().items()}
    theirs = _run(torch, name, args, arrays, {k: torch.from_numpy(v.copy()) for k, v in weights.items()})
    ours = _run(backend, name, args, arrays, weights)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-4, atol=1e-5, err_msg="output")
    for i, (a, b) in enumerate(zip(ours[1], theirs[1])):
        assert (a is None) == (b is None)
        if a is not None:
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5, err_msg=f"input grad {i}")
    assert ours[2].keys() == theirs[2].keys()
    for key in ours[2]:
        np.testing.assert_allclose(ours[2][key], theirs[2][key], rtol=1e-4, atol=1e-5, err_msg=f"grad of {key}")
    assert ours[3].keys() == theirs[3].keys()
    for key in ours[3]:  # after the call: running statistics updated as torch updates them
        np.testing.assert_allclose(ours[3][key], theirs[3][key], rtol=1e-4, atol=1e-5, err_msg=key)


def test_state_dict_round_trips_with_torch(backend):
    reference = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.Linear(4, 2))
    ours = backend.nn.Sequential(backend.nn.Linear(3, 4), backend.nn.BatchNorm1d(4), backend.nn.Linear(4, 2))
    result = ours.load_state_dict({k: v.numpy() for k, v in reference.state_dict().items()})
    assert result.missing_keys == [] and result.unexpected_keys == []
    back = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.Linear(4, 2))
    back.load_state_dict({k: torch.tensor(np.asarray(v.tolist()), dtype=reference.state_dict()[k].dtype)
                          for k, v in ours.state_dict().items()})
    for key, value in reference.state_dict().items():
        assert torch.equal(back.state_dict()[key], value), key
    with pytest.raises(RuntimeError, match="size mismatch"):
        ours.load_state_dict({**{k: v.numpy() for k, v in reference.state_dict().items()},
                              "0.weight": np.zeros((2, 2), np.float32)})
    with pytest.raises(RuntimeError, match="missing keys"):
        ours.load_state_dict({})


def test_module_bookkeeping(backend):
    nn = backend.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
            self.heads = nn.ModuleList([nn.Linear(3, 1), nn.Linear(3, 1)])
            self.extra = nn.ModuleDict({"scale": nn.Linear(1, 1, bias=False)})
            self.register_buffer("steps", backend.zeros(1))
            self.gain = nn.Parameter(backend.ones(1))

        def forward(self, x):
            h = self.body(x)
            return self.extra["scale"](sum(head(h) for head in self.heads)) * self.gain

    net = Net()
    names = [name for name, _ in net.named_parameters()]
    assert names == ["gain", "body.0.weight", "body.0.bias", "heads.0.weight", "heads.0.bias", "heads.1.weight",
                     "heads.1.bias", "extra.scale.weight"]
    assert [name for name, _ in net.named_buffers()] == ["steps"]
    assert len(list(net.modules())) == 9 and len(list(net.children())) == 3
    assert isinstance(net.body[0], nn.Linear) and isinstance(net.body[0], nn.Module)
    seen = []
    handle = net.body.register_forward_hook(lambda module, args, out: seen.append(tuple(out.shape)))
    out = net(backend.ones(4, 2))
    handle.remove()
    net(backend.ones(4, 2))
    assert seen == [(4, 3)] and tuple(out.shape) == (4, 1)
    assert not net.eval().body.training and net.train().heads[1].training
    out.sum().backward()
    assert net.gain.grad is not None
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
