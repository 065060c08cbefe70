"""gradwire.engine: a numpy autograd engine with PyTorch semantics."""
