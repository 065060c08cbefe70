"""torch.special for the engine.

Nothing is written here: every function is an op of the registry whose function names include
"special.<name>", so the engine, the server's catalogue and the SDK all read the same list.
"""

from .methods import namespace_functions as _namespace_functions

globals().update(_namespace_functions("special"))
