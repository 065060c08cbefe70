"""Rules of dropout and its variants: dropout, dropout1d/2d/3d (whole channels), alpha_dropout and
feature_alpha_dropout. The result has the input's shape; the mask's shape (one draw per element, or per
channel) is `mask_shape`. Which grad_fn torch names can depend on the mask drawn (alpha dropout dropping
everything): the rule then needs the mask the engine's forward records, and says None without it."""

from __future__ import annotations

from gradwire.rules.errors import InvalidValueError, ShapeError
from gradwire.rules.spec import AttrSpec, OpRules, define

from .nn_common import same_float

MASK = "_mask"  # where the engine's forward leaves the scale it applied (in the node's attributes)


def mask_shape(name: str, shape: tuple, feature_dims: int | None) -> tuple:
    """The shape of the random draw: the input's, or one per (batch, channel) for channel-wise variants."""
    if feature_dims is None:
        return tuple(shape)
    if feature_dims == 0:  # feature_alpha_dropout: one draw per (batch, channel)
        if len(shape) < 2:
            raise ShapeError(f"{name}(): Feature dropout requires at least 2 dimensions in the input, got "
                             f"{list(shape)}")
        return tuple(shape[:2]) + (1,) * (len(shape) - 2)
    if len(shape) not in (feature_dims + 1, feature_dims + 2):
        raise ShapeError(f"{name}(): Expected {feature_dims + 1}D or {feature_dims + 2}D input, but received a "
                         f"{len(shape)}D input. Note that {name} exists to provide channel-wise dropout on "
                         f"inputs with {feature_dims} spatial dimensions.")
    return tuple(shape[: len(shape) - feature_dims]) + (1,) * feature_dims


def _shape(name: str, feature_dims: int | None):
    def out_shape(shapes: list, attrs: dict) -> tuple:
        p = attrs["p"]
        if not 0.0 <= p <= 1.0:
            raise InvalidValueError(f"{name}(): dropout probability has to be between 0 and 1, but got {p}")
        if attrs["training"] or feature_dims == 1:  # dropout1d checks the rank even in evaluation
            mask_shape(name, tuple(shapes[0]), feature_dims)
        return tuple(shapes[0])

    return out_shape


def _grad_fn(alpha: bool):
    def name(call) -> str | None:
        if not call.attrs["training"]:
            return "CloneBackward0"  # torch returns the input itself here
        if not alpha or call.attrs["p"] == 1.0:
            return "MulBackward0"
        scale = call.attrs.get(MASK)
        if scale is None:
            return None  # alpha dropout is an AddBackward0 unless its draw dropped everything
        return "AddBackward0" if scale.any() else "MulBackward0"

    return name


def dropout(name: str, feature_dims: int | None, alpha: bool, default_training: bool, torch_names=()) -> None:
    define(OpRules(
        name=name, grad_fn=_grad_fn(alpha), dtype_rule=same_float(name),
        attrs=(AttrSpec("p", "real", default=0.5),
               AttrSpec("training", "boolean", default=default_training, aliases=("train",)),
               AttrSpec("inplace", "boolean", default=False)),
        functions=(f"nn.functional.{name}",) + tuple(torch_names), out_shape=_shape(name, feature_dims),
        summary=f"{name.replace('_', ' ')} with probability p while training (seeded by manual_seed); "
                "identity when training=False; inplace=True runs the op `<name>_`",
    ))


FEATURE_DIMS = {"dropout": None, "dropout1d": 1, "dropout2d": 2, "dropout3d": 3, "alpha_dropout": None,
                "feature_alpha_dropout": 0}
dropout("dropout", None, False, True, ("dropout",))
dropout("dropout1d", 1, False, True)
dropout("dropout2d", 2, False, True)
dropout("dropout3d", 3, False, True)
dropout("alpha_dropout", None, True, False, ("alpha_dropout",))
dropout("feature_alpha_dropout", 0, True, False, ("feature_alpha_dropout",))
