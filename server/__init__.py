"""gradwire.server: the gRPC server of gradwire (graphs, retained-graph sessions, the op catalogue).

    from gradwire.server import create_server
    server, port = create_server("127.0.0.1:0")   # started; server.stop(grace) to stop

Modules: config (flags and GRADWIRE_* env), codec (Tensor <-> numpy), attributes and graph (building
graphs with the engine), gradients (backward, grad), sessions, uploads, budget (byte caps), responses,
errors (status codes), service (the thin servicer), app (assembly), main (the command); for production:
tls (certificates re-read on change), tokens, principal (`principal_of(context)`), quotas (per-principal
caps), logs (text or JSON), version, and interceptors/ (auth, metrics, access_log, tracing).
"""

from .app import GradwireServer, create_server
from .config import ServerConfig, load_config

__all__ = ["GradwireServer", "ServerConfig", "create_server", "load_config"]
