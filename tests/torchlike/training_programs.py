"""Training programs in the manner of pytorch/tutorials' beginner_source/examples_nn (written here):
each takes the module it runs on (`torch`, gradwire's engine or a Client) and the initial weights as
numpy arrays, trains a few steps and returns its losses and final weights."""

from __future__ import annotations

import math
import random

import numpy as np


def _polynomial_data(torch):
    x = torch.linspace(-math.pi, math.pi, 200)
    y = torch.sin(x)
    powers = torch.tensor([1, 2, 3])
    return x, y, x.unsqueeze(-1).pow(powers)


def polynomial_nn(torch, weights, steps=20):
    """nn.Sequential(Linear, Flatten), MSELoss(sum), a manual update over model.parameters()."""
    x, y, features = _polynomial_data(torch)
    model = torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.Flatten(0, 1))
    model.load_state_dict(weights)
    loss_fn = torch.nn.MSELoss(reduction="sum")
    losses = []
    for _ in range(steps):
        loss = loss_fn(model(features), y)
        losses.append(loss.item())
        model.zero_grad()
        loss.backward()
        with torch.no_grad():
            for param in model.parameters():
                param -= 1e-5 * param.grad
    return losses, model.state_dict()


def polynomial_optim(torch, weights, steps=20):
    """The same model trained by RMSprop."""
    x, y, features = _polynomial_data(torch)
    model = torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.Flatten(0, 1))
    model.load_state_dict(weights)
    loss_fn = torch.nn.MSELoss(reduction="sum")
    optimizer = torch.optim.RMSprop(model.parameters(), lr=1e-3)
    losses = []
    for _ in range(steps):
        loss = loss_fn(model(features), y)
        losses.append(loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return losses, model.state_dict()


def _polynomial3(torch, dynamic):
    class Polynomial(torch.nn.Module):
        def __init__(self):
            super().__init__()
            for name in "abcde" if dynamic else "abcd":
                setattr(self, name, torch.nn.Parameter(torch.randn(())))

        def forward(self, x):
            y = self.a + self.b * x + self.c * x ** 2 + self.d * x ** 3
            if dynamic:  # Python control flow: a random number of extra orders sharing one weight
                for exponent in range(4, random.randint(4, 6)):
                    y = y + self.e * x ** exponent
            return y

    return Polynomial()


def polynomial_module(torch, weights, steps=20):
    """A custom Module with four scalar Parameters, trained by SGD."""
    x, y, _ = _polynomial_data(torch)
    model = _polynomial3(torch, dynamic=False)
    model.load_state_dict(weights)
    criterion = torch.nn.MSELoss(reduction="sum")
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-5)
    losses = []
    for _ in range(steps):
        loss = criterion(model(x), y)
        losses.append(loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return losses, model.state_dict()


def dynamic_net(torch, weights, steps=20):
    """Control flow and weight sharing in forward; SGD with momentum. The same random orders each run."""
    random.seed(7)
    x, y, _ = _polynomial_data(torch)
    model = _polynomial3(torch, dynamic=True)
    model.load_state_dict(weights)
    criterion = torch.nn.MSELoss(reduction="sum")
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-7, momentum=0.9)
    losses = []
    for _ in range(steps):
        loss = criterion(model(x), y)
        losses.append(loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return losses, model.state_dict()


def _two_layer_data(torch, seed=0):
    rng = np.random.default_rng(seed)
    x = torch.tensor(rng.standard_normal((16, 40)).astype(np.float32))
    y = torch.tensor(rng.standard_normal((16, 5)).astype(np.float32))
    return x, y


def _two_layer_sequential(torch):
    return torch.nn.Sequential(torch.nn.Linear(40, 20), torch.nn.ReLU(), torch.nn.Linear(20, 5))


def two_layer_net_nn(torch, weights, steps=15):
    """Sequential(Linear, ReLU, Linear), manual update under no_grad."""
    x, y = _two_layer_data(torch)
    model = _two_layer_sequential(torch)
    model.load_state_dict(weights)
    loss_fn = torch.nn.MSELoss(reduction="sum")
    losses = []
    for _ in range(steps):
        loss = loss_fn(model(x), y)
        losses.append(loss.item())
        model.zero_grad()
        loss.backward()
        with torch.no_grad():
            for param in model.parameters():
                param -= 1e-3 * param.grad
    return losses, model.state_dict()


def two_layer_net_optim(torch, weights, steps=15):
    """The same network trained by Adam."""
    x, y = _two_layer_data(torch)
    model = _two_layer_sequential(torch)
    model.load_state_dict(weights)
    loss_fn = torch.nn.MSELoss(reduction="sum")
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    losses = []
    for _ in range(steps):
        loss = loss_fn(model(x), y)
        losses.append(loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return losses, model.state_dict()


def two_layer_net_module(torch, weights, steps=15):
    """A custom Module holding two Linear layers, clamp(min=0) as the ReLU, SGD."""
    class TwoLayerNet(torch.nn.Module):
        def __init__(self, d_in, hidden, d_out):
            super().__init__()
            self.linear1 = torch.nn.Linear(d_in, hidden)
            self.linear2 = torch.nn.Linear(hidden, d_out)

        def forward(self, x):
            return self.linear2(self.linear1(x).clamp(min=0))

    x, y = _two_layer_data(torch)
    model = TwoLayerNet(40, 20, 5)
    model.load_state_dict(weights)
    criterion = torch.nn.MSELoss(reduction="sum")
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3)
    losses = []
    for _ in range(steps):
        loss = criterion(model(x), y)
        losses.append(loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return losses, model.state_dict()


PROGRAMS = [polynomial_nn, polynomial_optim, polynomial_module, dynamic_net, two_layer_net_nn,
            two_layer_net_optim, two_layer_net_module]


def initial_weights(program):
    """The program's model as torch initialises it, as numpy arrays (what load_state_dict takes)."""
    import torch

    torch.manual_seed(0)
    if program in (polynomial_nn, polynomial_optim):
        model = torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.Flatten(0, 1))
    elif program in (polynomial_module, dynamic_net):
        model = _polynomial3(torch, dynamic=program is dynamic_net)
    elif program is two_layer_net_module:
        return {"linear1.weight": _uniform((20, 40)), "linear1.bias": _uniform((20,)),
                "linear2.weight": _uniform((5, 20)), "linear2.bias": _uniform((5,))}
    else:
        model = _two_layer_sequential(torch)
    return {key: value.detach().numpy().copy() for key, value in model.state_dict().items()}


def _uniform(shape):
    return np.random.default_rng(len(shape) * 100 + shape[0]).uniform(-0.2, 0.2, shape).astype(np.float32)
