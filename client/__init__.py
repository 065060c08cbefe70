"""gradwire.client: the Python SDK. PyTorch code runs against a gradwire server unchanged:

    from gradwire.client import Client
    with Client("127.0.0.1:50051") as torch:
        a = torch.tensor([2., 3.], requires_grad=True)
        ((a + 3) ** 2 * 3).mean().backward()
        print(a.grad)

It imports numpy, grpc and the generated stubs only, never gradwire.engine.
"""

from .client import Client
from .dtypes import DType
from .errors import GradwireRpcError, ServerUnavailableError, SessionLostError
from .tensor import Tensor

__all__ = ["Client", "DType", "GradwireRpcError", "ServerUnavailableError", "SessionLostError", "Tensor"]
