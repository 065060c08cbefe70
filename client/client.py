"""`Client`: torch's module surface, running on a gradwire server.

    torch = Client("127.0.0.1:50051")
    a = torch.tensor([2., 3.], requires_grad=True)
    out = ((a + 3) * (a + 3) * 3).mean()
    out.backward(retain_graph=True)      # 2 RPCs: CreateSession (the graph) + Backward (returns grads)
    print(a.grad)                        # 0 RPCs: the grads came back with Backward

Ops and module functions come from the server's catalogue (one ListOps per Client, on first use);
tensors are lazy proxies (see tensor.py and session.py for what costs a round trip).
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Mapping, Sequence

import grpc

from gradwire.torchlike import bind

from . import dtypes, factories, methods, operators
from .autograd import Autograd
from .compiled import CompiledFunction
from .grad import GradTensor
from .namespaces import ROOTS, Namespace, catalogue_function
from .journal import DEFAULT_JOURNAL_BYTES, JournalPolicy
from .runtime import Runtime
from .security import Pem, channel_credentials, token_metadata
from .surface import TorchSurface
from .tensor import Tensor
from .transport import Transport

# Operators, casts, overloads and .grad: attached to the SDK Tensor from one table.
methods.install(Tensor)


class no_grad:  # noqa: N801 - torch's name
    """Context manager (and decorator) that records ops without gradient tracking."""

    def __init__(self, runtime: Runtime, enabled: bool = False) -> None:
        self._runtime = runtime
        self._enabled = enabled
        self._previous: list[bool] = []

    def __enter__(self) -> None:
        self._previous.append(self._runtime.grad_enabled)
        self._runtime.set_grad_enabled(self._enabled)

    def __exit__(self, *exc: Any) -> None:
        self._runtime.set_grad_enabled(self._previous.pop())

    def __call__(self, function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self:
                return function(*args, **kwargs)

        return wrapper


class Client(TorchSurface):
    """A connection to a gradwire server that reads like the torch module.

    token: a bearer token (sent as "authorization: Bearer <token>"); ca: the CA file (or PEM bytes) to
    trust, which turns TLS on (tls=True alone trusts the system's CAs); client_cert and client_key: a
    client certificate for mTLS. credentials: any grpc.ChannelCredentials instead of those; metadata:
    pairs (or a dict) sent with every call; timeout: seconds per call; max_message_bytes: the gRPC
    message limit (set it to the server's; larger tensors are streamed); journal_bytes: how much of
    what each session was sent the SDK keeps to rebuild the session on another replica after its
    replica is lost (0: never rebuild, a lost session raises SessionLostError; see journal.py).
    """

    float16 = half = dtypes.float16
    float32 = float = dtypes.float32
    float64 = double = dtypes.float64
    int8 = char = dtypes.int8
    uint8 = dtypes.uint8
    int16 = short = dtypes.int16
    int32 = int = dtypes.int32
    int64 = long = dtypes.int64
    bool = bool_ = dtypes.bool_
    dtypes = dtypes
    DType = dtypes.DType

    def __init__(self, address: str, *, token: str | None = None, ca: Pem = None, client_cert: Pem = None,
                 client_key: Pem = None, tls: bool = False, credentials: grpc.ChannelCredentials | None = None,
                 metadata: Mapping[str, str] | Sequence[tuple[str, str]] | None = None,
                 timeout: float | None = None, max_message_bytes: int | None = None,
                 journal_bytes: int = DEFAULT_JOURNAL_BYTES) -> None:
        self.address = address
        if credentials is None:
            credentials = channel_credentials(tls=tls, ca=ca, client_cert=client_cert, client_key=client_key)
        pairs = list(metadata.items() if isinstance(metadata, Mapping) else metadata or ())
        metadata = pairs + list(token_metadata(token))
        transport = Transport(address, credentials=credentials, metadata=metadata, timeout=timeout,
                              max_message_bytes=max_message_bytes)
        transport.journal_policy = JournalPolicy(journal_bytes)  # type: ignore[attr-defined]
        # Each Client gets its own Tensor class, so client.Tensor(...) and isinstance work as in torch.
        self.Tensor: type[Tensor] = type("Tensor", (Tensor,), {"__slots__": (), "__module__": __name__})
        # Its .grad proxies are the other kind of tensor (grad.py), still instances of client.Tensor.
        self.Tensor._grad_class = type("Tensor", (GradTensor, self.Tensor), {"__slots__": (), "__module__": __name__})
        self._runtime = Runtime(transport, self.Tensor)
        self.Tensor._runtime = self._runtime
        self.autograd = Autograd(self._runtime)
        # torch.nn, torch.linalg, torch.special: catalogue functions with dotted names (+ extras).
        for root in ROOTS:
            setattr(self, root, Namespace(self._runtime, root))
        # torch.nn's classes and torch.optim: gradwire.torchlike (written once, shared with the engine).
        nn_classes, self.optim = bind(self)
        self.nn.extend(vars(nn_classes))

    # ------------------------------------------------------------ lifecycle
    def close(self) -> None:
        """Closes every session this client opened, then the channel."""
        self._runtime.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @property
    def rpc_counts(self) -> dict[str, int]:
        """RPCs made so far, by method name (CreateSession, Extend, Backward, ...)."""
        return dict(self._runtime.transport.counter.counts)

    @property
    def rpc_total(self) -> int:
        return self._runtime.transport.counter.total()

    @property
    def session_replays(self) -> int:
        """How many times a lost session was rebuilt from its journal (on another replica)."""
        return self._runtime.transport.journal_policy.replays  # type: ignore[attr-defined]

    @property
    def session_id(self) -> str:
        """The id of the session new tensors go to (routable as "gradwire-session-id" metadata)."""
        return self._runtime.session.id

    def ops(self) -> list[str]:
        """The names of the server's ops."""
        return sorted(self._runtime.catalogue.ops)

    def compile(self, fn: Callable[..., Any]) -> CompiledFunction:
        """fn traced once and prepared on the server; each call sends only its arguments' values
        (compiled.py). `.value_and_grad(*args)` also returns the grads, in the same call."""
        return CompiledFunction(self, fn)

    # ------------------------------------------------------------ factories
    def tensor(self, data: Any, dtype: Any = None, requires_grad: bool = False, **options: Any) -> Tensor:
        factories.size_option((), options)  # device= (cpu only)
        return factories.tensor(self._runtime, data, dtype, requires_grad)

    def from_numpy(self, array: Any) -> Tensor:
        return factories.from_numpy(self._runtime, array)

    def zeros(self, *size: Any, dtype: Any = None, requires_grad: bool = False, **options: Any) -> Tensor:
        return factories.filled(self._runtime, factories.size_option(size, options), 0, dtype, requires_grad,
                                dtypes.DEFAULT_FLOAT)

    def ones(self, *size: Any, dtype: Any = None, requires_grad: bool = False, **options: Any) -> Tensor:
        return factories.filled(self._runtime, factories.size_option(size, options), 1, dtype, requires_grad,
                                dtypes.DEFAULT_FLOAT)

    def full(self, size: Any, fill_value: Any, dtype: Any = None, requires_grad: bool = False,
             **options: Any) -> Tensor:
        factories.size_option((), options)
        return factories.filled(self._runtime, (size,), fill_value, dtype, requires_grad)

    def eye(self, n: int, m: int | None = None, dtype: Any = None, requires_grad: bool = False) -> Tensor:
        return factories.eye(self._runtime, n, m, dtype, requires_grad)

    def arange(self, start: Any, end: Any = None, step: Any = 1, dtype: Any = None,
               requires_grad: bool = False, **options: Any) -> Tensor:
        factories.size_option((), options)
        return factories.arange(self._runtime, start, end, step, dtype, requires_grad)

    def randn(self, *size: Any, dtype: Any = None, requires_grad: bool = False, **options: Any) -> Tensor:
        return factories.randn(self._runtime, factories.size_option(size, options), dtype, requires_grad)

    def zeros_like(self, other: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
        return self.zeros(other.shape, dtype=dtype or other.dtype, requires_grad=requires_grad)

    def ones_like(self, other: Tensor, dtype: Any = None, requires_grad: bool = False) -> Tensor:
        return self.ones(other.shape, dtype=dtype or other.dtype, requires_grad=requires_grad)

    def manual_seed(self, seed: int) -> None:
        """Seeds randn (values are drawn locally; they differ from torch's generator)."""
        import numpy as np

        self._runtime.random = np.random.default_rng(seed)

    # ------------------------------------------------------------ grad mode
    def no_grad(self) -> no_grad:
        return no_grad(self._runtime)

    def enable_grad(self) -> no_grad:
        return no_grad(self._runtime, enabled=True)

    def set_grad_enabled(self, mode: bool) -> None:
        self._runtime.set_grad_enabled(mode)

    def is_grad_enabled(self) -> bool:
        return self._runtime.grad_enabled

    def is_tensor(self, obj: Any) -> bool:
        return isinstance(obj, self.Tensor)

    # ------------------------------------------------------------ module functions
    def max(self, tensor: Tensor, dim: Any = None, keepdim: bool = False, *, axis: Any = None) -> Any:
        return operators.extreme(self._runtime, "max", "maximum", tensor, dim if axis is None else axis, keepdim)

    def min(self, tensor: Tensor, dim: Any = None, keepdim: bool = False, *, axis: Any = None) -> Any:
        return operators.extreme(self._runtime, "min", "minimum", tensor, dim if axis is None else axis, keepdim)

    def median(self, tensor: Tensor, dim: Any = None, keepdim: bool = False, *, axis: Any = None) -> Any:
        return operators.median(self._runtime, tensor, dim if axis is None else axis, keepdim)

    def __getattr__(self, name: str) -> Any:
        """Module functions (exp, cat, stack, where, maximum, ...) from the server's catalogue."""
        if name.startswith("_"):
            raise AttributeError(name)
        runtime = self.__dict__.get("_runtime")
        function = catalogue_function(runtime, name) if runtime is not None else None
        if function is None:
            raise AttributeError(f"gradwire Client has no attribute {name!r} (not in the server's op catalogue)")
        return function

    def __dir__(self) -> list[str]:
        top_level = {name for name in self._runtime.catalogue.functions if "." not in name}
        return sorted(set(super().__dir__()) | top_level)

    def __repr__(self) -> str:
        return f"gradwire.client.Client({self.address!r})"
