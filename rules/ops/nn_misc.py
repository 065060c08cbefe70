"""Rules of embedding (+ its internal weight gradient), one_hot, pixel_shuffle/pixel_unshuffle and the
composite nn ops normalize, cosine_similarity, pairwise_distance, local_response_norm,
triplet_margin_loss and cosine_embedding_loss."""

from __future__ import annotations

from gradwire.rules import dtypes
from gradwire.rules.errors import DTypeRuntimeError, InvalidArgumentRuntimeError, InvalidValueError, ShapeError
from gradwire.rules.shapes import broadcast_shapes, normalise_dim
from gradwire.rules.spec import AttrSpec, Bound, OpRules, define

from .nn_common import REDUCTION, check_reduction, same_dtype, same_float

# ---------------------------------------------------------------- embedding
EMBEDDING_ATTRS = (AttrSpec("padding_idx", "integer"), AttrSpec("max_norm", "real"),
                   AttrSpec("norm_type", "real", default=2.0), AttrSpec("scale_grad_by_freq", "boolean", default=False),
                   AttrSpec("sparse", "boolean", default=False))


def padding_row(attrs: dict, rows: int) -> int | None:
    """padding_idx as a row number (negative counts from the end), checked against the weight's rows."""
    index = attrs.get("padding_idx")
    if index is None:
        return None
    if not -rows <= index < rows:
        raise InvalidArgumentRuntimeError(f"embedding(): Padding_idx must be within num_embeddings ({rows}), "
                                          f"got {index}")
    return index % rows


def _embedding_shape(shapes: list, attrs: dict) -> tuple:
    indices, weight = tuple(shapes[0]), tuple(shapes[1])
    if len(weight) != 2:
        raise ShapeError(f"embedding(): 'weight' must be 2-D (num_embeddings, embedding_dim), got {list(weight)}")
    padding_row(attrs, weight[0])
    return indices + weight[1:]


define(OpRules(
    name="embedding", grad_fn="EmbeddingBackward0",
    dtype_rule=same_float("embedding", float_positions=(1,), int_positions=(0,)),
    min_inputs=2, max_inputs=2, attrs=EMBEDDING_ATTRS, functions=("nn.functional.embedding",),
    out_shape=_embedding_shape,
    summary="rows of weight at the integer indices; padding_idx rows get no gradient, max_norm renormalises "
            "the rows used in place, scale_grad_by_freq divides gradients by index counts",
))
define(OpRules(
    name="embedding_dense_backward", grad_fn="EmbeddingDenseBackwardBackward0",
    dtype_rule=same_float("embedding_dense_backward", float_positions=(0,), int_positions=(1,)),
    min_inputs=2, max_inputs=2,
    attrs=(AttrSpec("num_weights", "integer", required=True), AttrSpec("padding_idx", "integer"),
           AttrSpec("scale_grad_by_freq", "boolean", default=False)),
    out_shape=lambda shapes, a: (a["num_weights"],) + tuple(shapes[0][-1:]),
    summary="internal: embedding's weight gradient (sums the gradients of each index into its row)",
    internal=True,
))


# ---------------------------------------------------------------- one_hot
def _one_hot_rule(operand_dtypes: list, operands: list, attrs: dict) -> tuple:
    if operand_dtypes[0] is not dtypes.int64:
        raise DTypeRuntimeError("one_hot is only applicable to index tensor of type LongTensor (int64); "
                                "convert it with .long()")
    return None, dtypes.int64


define(OpRules(
    name="one_hot", differentiable=False, dtype_rule=_one_hot_rule,
    attrs=(AttrSpec("num_classes", "integer", default=-1),), functions=("nn.functional.one_hot",),
    # num_classes=-1 depends on the values: the budget is charged for one class (a lower bound)
    out_shape=lambda shapes, a: (Bound if a["num_classes"] < 0 else tuple)(tuple(shapes[0]) + (max(a["num_classes"], 1),)),
    summary="int64 one-hot encoding along a new last dim (num_classes=-1: max + 1)",
))


# ---------------------------------------------------------------- pixel_shuffle / pixel_unshuffle
def _factor(name: str, what: str, x: tuple, r: int) -> None:
    if len(x) < 3:
        raise ShapeError(f"{name}(): {name} expects input to have at least 3 dimensions, but got input with "
                         f"{len(x)} dimension(s)")
    if r <= 0:
        raise InvalidArgumentRuntimeError(f"{name}(): {name} expects a positive {what}, but got {r}")


def _shuffle_shape(shapes: list, attrs: dict) -> tuple:
    x, r = tuple(shapes[0]), attrs["upscale_factor"]
    _factor("pixel_shuffle", "upscale_factor", x, r)
    *lead, c, h, w = x
    if c % (r * r):
        raise ShapeError(f"pixel_shuffle(): pixel_shuffle expects its input's 'channel' dimension to be divisible by "
                         f"the square of upscale_factor, but input.size(-3)={c} is not divisible by {r * r}")
    return tuple(lead) + (c // (r * r), h * r, w * r)


def _unshuffle_shape(shapes: list, attrs: dict) -> tuple:
    x, r = tuple(shapes[0]), attrs["downscale_factor"]
    _factor("pixel_unshuffle", "downscale_factor", x, r)
    *lead, c, h, w = x
    for what, size, dim in (("height", h, -2), ("width", w, -1)):
        if size % r:
            raise ShapeError(f"pixel_unshuffle(): pixel_unshuffle expects {what} to be divisible by downscale_factor, "
                             f"but input.size({dim})={size} is not divisible by {r}")
    return tuple(lead) + (c * r * r, h // r, w // r)


define(OpRules(
    name="pixel_shuffle", grad_fn="PixelShuffleBackward0", dtype_rule=same_dtype, out_shape=_shuffle_shape,
    attrs=(AttrSpec("upscale_factor", "integer", required=True),),
    functions=("pixel_shuffle", "nn.functional.pixel_shuffle"),
    summary="(*, C*r*r, H, W) -> (*, C, H*r, W*r)",
))
define(OpRules(
    name="pixel_unshuffle", grad_fn="PixelUnshuffleBackward0", dtype_rule=same_dtype, out_shape=_unshuffle_shape,
    attrs=(AttrSpec("downscale_factor", "integer", required=True),),
    functions=("pixel_unshuffle", "nn.functional.pixel_unshuffle"),
    summary="(*, C, H*r, W*r) -> (*, C*r*r, H, W)",
))


# ---------------------------------------------------------------- composites (engine/ops/nn_composite.py)
def broadcast_without(shapes: list, drop) -> tuple:
    """The operands' broadcast shape, without dim `drop` (None: all kept); torch's errors for bad shapes."""
    shape = list(broadcast_shapes([tuple(s) for s in shapes]))
    if drop is not None:
        dim = normalise_dim(drop, len(shape))
        if shape:
            del shape[dim]
    return tuple(shape)


def composite(name: str, *, inputs: int, **options) -> OpRules:
    return define(OpRules(name=name, min_inputs=options.pop("min_inputs", inputs), max_inputs=inputs, **options))


def _normalize_shape(shapes: list, attrs: dict) -> tuple:
    normalise_dim(attrs["dim"], len(shapes[0]))
    return tuple(shapes[0])


composite("normalize", inputs=1, grad_fn="DivBackward0", out_shape=_normalize_shape,
          dtype_rule=same_float("normalize"),
          attrs=(AttrSpec("p", "real", default=2.0), AttrSpec("dim", "integer", default=1),
                 AttrSpec("eps", "real", default=1e-12)),
          functions=("nn.functional.normalize",), summary="x / max(||x||_p along dim, eps)")
composite("cosine_similarity", inputs=2, grad_fn="SumBackward1",
          out_shape=lambda shapes, a: broadcast_without(shapes, a["dim"]),
          dtype_rule=same_float("cosine_similarity"),
          attrs=(AttrSpec("dim", "integer", default=1), AttrSpec("eps", "real", default=1e-8)),
          functions=("cosine_similarity", "nn.functional.cosine_similarity"),
          summary="cosine of the angle between x1 and x2 along dim (each norm clamped at eps)")
composite("pairwise_distance", inputs=2, grad_fn="NormBackward1",
          out_shape=lambda shapes, a: broadcast_without(shapes, -1) + ((1,) if a["keepdim"] and any(shapes) else ()),
          dtype_rule=same_float("pairwise_distance"),
          attrs=(AttrSpec("p", "real", default=2.0), AttrSpec("eps", "real", default=1e-6),
                 AttrSpec("keepdim", "boolean", default=False)),
          functions=("pairwise_distance", "nn.functional.pairwise_distance"),
          summary="||x1 - x2 + eps||_p over the last dim")


def _triplet_shape(shapes: list, attrs: dict) -> tuple:
    check_reduction("triplet_margin_loss", attrs["reduction"])
    anchor, positive, negative = (tuple(s) for s in shapes[:3])
    if not len(anchor) == len(positive) == len(negative):
        raise ShapeError(f"triplet_margin_loss(): The anchor, positive, and negative tensors are expected to have "
                         f"the same number of dimensions, but got: anchor {len(anchor)}D, positive {len(positive)}D, "
                         f"and negative {len(negative)}D inputs")
    shape = broadcast_without(shapes, -1)
    return shape if attrs["reduction"] == "none" else ()


composite("triplet_margin_loss", inputs=3, out_shape=_triplet_shape,
          grad_fn=lambda call: {"mean": "MeanBackward0", "sum": "SumBackward0"}.get(call.attrs["reduction"],
                                                                                     "ClampMinBackward0"),
          dtype_rule=same_float("triplet_margin_loss"),
          attrs=(AttrSpec("margin", "real", default=1.0), AttrSpec("p", "real", default=2.0),
                 AttrSpec("eps", "real", default=1e-6), AttrSpec("swap", "boolean", default=False), REDUCTION),
          functions=("nn.functional.triplet_margin_loss",),
          summary="max(d(a, p) - d(a, n) + margin, 0) with pairwise distances")


def _cosine_embedding_shape(shapes: list, attrs: dict) -> tuple:
    check_reduction("cosine_embedding_loss", attrs["reduction"])
    x1, x2, target = (tuple(s) for s in shapes[:3])
    if len(target) > 1 or len(x1) != len(target) + 1 or len(x2) != len(target) + 1:
        expected = "1D target tensor expects 2D" if len(target) == 1 else "0D target tensor expects 1D"
        raise ShapeError(f"cosine_embedding_loss(): {expected} input tensors, but found inputs with sizes {list(x1)} "
                         f"and {list(x2)}.")
    samples = broadcast_shapes([x1[:-1], x2[:-1], target])
    broadcast_shapes([x1[-1:], x2[-1:]])
    return samples if attrs["reduction"] == "none" else ()


composite("cosine_embedding_loss", inputs=3, out_shape=_cosine_embedding_shape,
          grad_fn=lambda call: {"mean": "MeanBackward0", "sum": "SumBackward0"}.get(call.attrs["reduction"],
                                                                                     "AddBackward0"),
          dtype_rule=same_float("cosine_embedding_loss", float_positions=(0, 1)),
          attrs=(AttrSpec("margin", "real", default=0.0), REDUCTION),
          functions=("nn.functional.cosine_embedding_loss",),
          summary="1 - cos(x1, x2) where target is 1, max(0, cos - margin) where it is -1")


def _local_response_shape(shapes: list, attrs: dict) -> tuple:
    x = tuple(shapes[0])
    if len(x) < 3:
        raise InvalidValueError(f"local_response_norm(): Expected 3D or higher dimensionality input (got {len(x)} "
                                "dimensions)")
    if attrs["size"] <= 0:
        raise InvalidArgumentRuntimeError(f"local_response_norm(): kernel size should be greater than zero, but got "
                                          f"size={attrs['size']}")
    return x


composite("local_response_norm", inputs=1, grad_fn="DivBackward0", out_shape=_local_response_shape,
          dtype_rule=same_float("local_response_norm"),
          attrs=(AttrSpec("size", "integer", required=True), AttrSpec("alpha", "real", default=1e-4),
                 AttrSpec("beta", "real", default=0.75), AttrSpec("k", "real", default=1.0)),
          functions=("nn.functional.local_response_norm",),
          summary="x / (k + alpha * mean of x^2 over `size` neighbouring channels)^beta")
