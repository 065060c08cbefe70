"""torch.nn.functional for the engine (`import gradwire.engine.nn.functional as F`).

Nothing is written here: every function is an op of the registry whose function names include
"nn.functional.<name>", so the engine, the server's catalogue and the SDK all read the same list.
"""

from ..methods import namespace_functions as _namespace_functions

globals().update(_namespace_functions("nn.functional"))
