"""Rules of pooling: max_pool1d/2d (+ _with_indices), avg_pool1d/2d, adaptive_avg_pool1d/2d and
adaptive_max_pool1d/2d (+ _with_indices), and the internal ops of max pooling's gradient
(max_pool_scatter, max_pool_gather): torch's checks of ranks, empty dims, kernel, stride, padding and
dilation, and the output sizes (ceil_mode as torch: the last window starts inside the input or padding).

Integer inputs as torch's CPU kernels take them: max pooling (max_pool2d, and max_pool1d with indices) keeps
any integer dtype, average pooling only int64 (each window's sum divided toward zero); the rest raise
NotImplementedError naming torch's kernel."""

from __future__ import annotations

from gradwire.rules import dtypes
from gradwire.rules.errors import (IndexOutOfRange, InvalidArgumentRuntimeError, NotImplementedForDTypeError,
                                   ShapeError)
from gradwire.rules.spec import AttrSpec, OpRules, define

from .nn_common import same_float


INTEGERS = frozenset({dtypes.int8, dtypes.uint8, dtypes.int16, dtypes.int32, dtypes.int64})


def pool_dtype(name: str, kernel: str, integers=frozenset()):
    """dtype rule: floating inputs, and the integer dtypes torch's CPU kernel `kernel` takes (kept as the
    result's dtype); NotImplementedError naming that kernel for the others."""
    floating = same_float(name)

    def rule(operand_dtypes: list, operands: list, attrs: dict) -> tuple:
        dtype = operand_dtypes[0] if operand_dtypes else None
        if dtype is not None and not dtype.is_floating_point:
            if dtype in integers:
                return None, dtype
            raise NotImplementedForDTypeError(f"\"{kernel}\" not implemented for '{dtypes.TORCH_NAMES[dtype]}'")
        return floating(operand_dtypes, operands, attrs)

    return rule


def per_dim(value, d: int, name: str, what: str) -> tuple:
    values = (value,) * d if isinstance(value, int) else tuple(value)
    if len(values) == 1 and d > 1:
        values = values * d
    if len(values) != d:
        raise InvalidArgumentRuntimeError(f"{name}: {what} must either be a single int, or a tuple of {d} ints, "
                                          f"got {list(values)}")
    return values


def spatial_input(name: str, x: tuple, d: int) -> bool:
    """True for an unbatched input (C, *S); torch's error for a wrong rank or an empty channel/spatial dim."""
    if len(x) not in (d + 1, d + 2):
        if name == "avg_pool2d" and len(x) < 3:
            raise IndexOutOfRange(f"{name}(): Dimension out of range (expected to be in range of "
                                  f"[{-max(len(x), 1)}, {max(len(x), 1) - 1}], but got -3): expected a 3-D or 4-D "
                                  f"input, got shape {list(x)}")
        raise ShapeError(f"{name}(): Expected {d + 1}D (unbatched) or {d + 2}D (batched) input, but got input of "
                         f"size: {list(x)}")
    if any(n == 0 for n in x[-d - 1:]):
        raise ShapeError(f"{name}(): Expected {d + 1}D or {d + 2}D (batch mode) tensor with optional 0 dim batch "
                         f"size for input, but got: {list(x)}")
    return len(x) == d + 1


def pool_geometry(name: str, d: int, attrs: dict, spatial: tuple) -> tuple:
    """(kernel, stride, padding low+high incl. ceil_mode's extra, dilation, output spatial shape)."""
    kernel = per_dim(attrs["kernel_size"], d, name, "kernel_size")
    stride = kernel if attrs["stride"] in (None, ()) else per_dim(attrs["stride"], d, name, "stride")
    pads = per_dim(attrs["padding"], d, name, "padding")
    dilation = per_dim(attrs.get("dilation", 1), d, name, "dilation")
    if any(s == 0 for s in stride):
        raise InvalidArgumentRuntimeError(f"{name}(): stride should not be zero")
    if any(k <= 0 for k in kernel) or any(s < 0 for s in stride):
        raise InvalidArgumentRuntimeError(f"{name}(): kernel_size and stride must be greater than zero, got "
                                          f"kernel_size={list(kernel)}, stride={list(stride)}")
    if any(v <= 0 for v in dilation):
        raise InvalidArgumentRuntimeError(f"{name}(): dilation should be greater than zero, but got {list(dilation)}")
    if any(p < 0 for p in pads):
        raise InvalidArgumentRuntimeError(f"{name}(): pad must be non-negative, but got pad: {list(pads)}")
    if any(p > k // 2 for p, k in zip(pads, kernel)):
        raise InvalidArgumentRuntimeError(f"{name}(): pad should be at most half of effective kernel size, but got "
                                          f"pad={list(pads)}, kernel_size={list(kernel)} and dilation={list(dilation)}")
    out, extra = [], []
    for size, k, s, p, dil in zip(spatial, kernel, stride, pads, dilation):
        span = dil * (k - 1) + 1
        numerator = size + 2 * p - span
        n = (-(-numerator // s) if attrs["ceil_mode"] else numerator // s) + 1
        if attrs["ceil_mode"] and (n - 1) * s >= size + p:
            n -= 1  # the last window must start inside the input or the left padding
        if n <= 0:
            raise ShapeError(f"{name}(): Given input size: ({'x'.join(map(str, spatial))}). Calculated output size: "
                             f"({'x'.join(str(max(m, 0)) for m in out + [n])}...). Output size is too small "
                             f"(kernel {list(kernel)}, padding {list(pads)}, dilation {list(dilation)})")
        out.append(n)
        extra.append(max(0, (n - 1) * s + span - (size + 2 * p)))
    padding = tuple(pads) + tuple(p + e for p, e in zip(pads, extra))
    return kernel, stride, padding, dilation, tuple(out)


def pool_shape(name: str, d: int):
    def out_shape(shapes: list, attrs: dict) -> tuple:
        x = tuple(shapes[0])
        spatial_input(name, x, d)
        if attrs.get("divisor_override") is not None and attrs["divisor_override"] == 0:
            raise InvalidArgumentRuntimeError(f"{name}(): divisor must be not zero")
        *_, out = pool_geometry(name, d, {"dilation": 1, **attrs}, x[-d:])
        return x[:-d] + out

    return out_shape


def pooled_with_indices(out_shape):
    """A rule giving both outputs' shapes (values and their int64 indices) of one that gives the values'."""
    return lambda shapes, attrs: [out_shape(shapes, attrs)] * 2


MAX_ATTRS = (AttrSpec("kernel_size", "integer|ints", required=True), AttrSpec("stride", "integer|ints"),
             AttrSpec("padding", "integer|ints", default=0), AttrSpec("dilation", "integer|ints", default=1),
             AttrSpec("ceil_mode", "boolean", default=False), AttrSpec("return_indices", "boolean", default=False))


def _max_pool_name(d: int):
    return lambda call: "SqueezeBackward1" if d == 1 else f"MaxPool{d}DWithIndicesBackward0"


def max_pool(d: int) -> None:
    name = f"max_pool{d}d"
    define(OpRules(
        name=name, grad_fn=_max_pool_name(d), attrs=MAX_ATTRS, functions=(name, f"nn.functional.{name}"),
        dtype_rule=pool_dtype(name, "max_pool2d", INTEGERS) if d == 2 else pool_dtype(name, "max_pool1d_impl"), out_shape=pool_shape(name, d),
        summary=f"{d}-D max pooling (kernel_size, stride, padding, dilation, ceil_mode); return_indices=True "
                f"calls {name}_with_indices",
    ))
    define(OpRules(
        name=f"{name}_with_indices", grad_fn=_max_pool_name(d), dtype_rule=pool_dtype(name, "max_pool2d", INTEGERS),
        attrs=MAX_ATTRS,
        num_outputs=2, functions=(f"nn.functional.{name}_with_indices",),
        out_shape=pooled_with_indices(pool_shape(name, d)),
        summary=f"{d}-D max pooling returning (values, indices); indices are flat positions in each input plane",
    ))


def _index_rule(name: str):
    return same_float(name, float_positions=(0,), int_positions=(1,))


def _scatter_shape(shapes: list, attrs: dict) -> tuple:
    g, size = tuple(shapes[0]), tuple(attrs["input_size"])
    if len(g) < len(size) or tuple(shapes[1]) != g:
        raise ShapeError(f"max_pool_scatter(): gradient {list(g)} and indices {list(shapes[1])} must have one shape "
                         f"with at least {len(size)} dims")
    return g[: len(g) - len(size)] + size


define(OpRules(
    name="max_pool_scatter", grad_fn="MaxPoolBackwardBackward0", dtype_rule=_index_rule("max_pool_scatter"),
    min_inputs=2, max_inputs=2, attrs=(AttrSpec("input_size", "ints", required=True),), out_shape=_scatter_shape,
    summary="internal: adds each gradient into the input position its index names (max pooling's gradient)",
    internal=True,
))
define(OpRules(
    name="max_pool_gather", grad_fn="MaxPoolBackwardBackward0", dtype_rule=_index_rule("max_pool_gather"),
    min_inputs=2, max_inputs=2, attrs=(AttrSpec("input_size", "ints", required=True),),
    out_shape=lambda shapes, a: tuple(shapes[1]),
    summary="internal: picks the input positions the indices name (the gradient of max_pool_scatter)",
    internal=True,
))

AVG_ATTRS = (AttrSpec("kernel_size", "integer|ints", required=True), AttrSpec("stride", "integer|ints"),
             AttrSpec("padding", "integer|ints", default=0), AttrSpec("ceil_mode", "boolean", default=False),
             AttrSpec("count_include_pad", "boolean", default=True))


def avg_pool(d: int) -> None:
    name = f"avg_pool{d}d"
    define(OpRules(
        name=name, grad_fn="SqueezeBackward1" if d == 1 else f"AvgPool{d}DBackward0",
        dtype_rule=pool_dtype(name, "avg_pool2d", {dtypes.int64}),
        attrs=AVG_ATTRS + ((AttrSpec("divisor_override", "integer"),) if d > 1 else ()),
        functions=((name,) if d == 1 else ()) + (f"nn.functional.{name}",),  # torch.avg_pool1d only
        out_shape=pool_shape(name, d),
        summary=f"{d}-D average pooling (kernel_size, stride, padding, ceil_mode, count_include_pad"
                + (", divisor_override)" if d > 1 else ")"),
    ))


for _d in (1, 2):
    max_pool(_d)
    avg_pool(_d)


# ---------------------------------------------------------------- adaptive pooling
OUTPUT_SIZE = AttrSpec("output_size", "integer|ints", required=True)


def adaptive_sizes(name: str, d: int, x: tuple, attrs: dict, allow_empty: bool) -> tuple:
    """The output's spatial sizes; torch's errors for a wrong rank, output_size or an empty input dim."""
    if d == 2 and allow_empty and attrs["output_size"] in (1, (1,), (1, 1)):
        # torch's adaptive_avg_pool2d to 1x1 is a mean over the last two dims, for any rank >= 2
        if len(x) < 2:
            raise IndexOutOfRange(f"{name}(): Dimension out of range (expected to be in range of "
                                  f"[{-max(len(x), 1)}, {max(len(x), 1) - 1}], but got -2)")
        return (1, 1)
    if len(x) not in (d + 1, d + 2):
        raise ShapeError(f"{name}(): Expected {d + 1}D or {d + 2}D tensor, but got {list(x)}")
    value = attrs["output_size"]
    out = (value,) * d if isinstance(value, int) else tuple(value)
    if len(out) == 1 and d > 1:
        out = out * d
    if len(out) != d:
        raise InvalidArgumentRuntimeError(f"{name}(): output_size must be {d} integers, got {value}")
    if any(n < 0 or (n == 0 and not allow_empty) for n in out):
        raise InvalidArgumentRuntimeError(f"{name}(): elements of output_size must be greater than or equal to "
                                          f"{0 if allow_empty else 1}, but got {list(out)}")
    checked = d if allow_empty else d + 1  # average pooling takes empty channels, max pooling does not
    for dim, n in enumerate(x[-checked:]):
        if n == 0:
            raise ShapeError(f"{name}(): Expected input to have non-zero size for non-batch dimensions, but input "
                             f"has sizes {list(x)} with dimension {len(x) - checked + dim} being empty")
    return out


def adaptive_avg(d: int) -> None:
    name = f"adaptive_avg_pool{d}d"

    def grad_fn(call) -> str:
        if d == 1:
            return "SqueezeBackward1"
        out = adaptive_sizes(name, d, call.input_shapes[0], call.attrs, True)
        return "MeanBackward1" if all(n == 1 for n in out) else f"AdaptiveAvgPool{d}DBackward0"

    define(OpRules(
        name=name, grad_fn=grad_fn, dtype_rule=pool_dtype(name, "adaptive_avg_pool2d"), attrs=(OUTPUT_SIZE,),
        functions=((name,) if d == 1 else ()) + (f"nn.functional.{name}",),
        out_shape=lambda shapes, a: tuple(shapes[0][:-d]) + adaptive_sizes(name, d, tuple(shapes[0]), a, True),
        summary=f"{d}-D adaptive average pooling to output_size",
    ))


def adaptive_max(d: int) -> None:
    name = f"adaptive_max_pool{d}d"
    grad_fn = "SqueezeBackward1" if d == 1 else f"AdaptiveMaxPool{d}DBackward0"
    attrs = (OUTPUT_SIZE, AttrSpec("return_indices", "boolean", default=False))

    def out_shape(shapes: list, a: dict) -> tuple:
        return tuple(shapes[0][:-d]) + adaptive_sizes(name, d, tuple(shapes[0]), a, False)

    define(OpRules(
        name=name, grad_fn=grad_fn, dtype_rule=pool_dtype(name, "adaptive_max_pool2d"), attrs=attrs,
        functions=(f"nn.functional.{name}",),  # torch.adaptive_max_pool1d returns (values, indices)
        out_shape=out_shape, summary=f"{d}-D adaptive max pooling to output_size (return_indices: {name}_with_indices)",
    ))
    define(OpRules(
        name=f"{name}_with_indices", grad_fn=grad_fn, dtype_rule=pool_dtype(name, "adaptive_max_pool2d"), attrs=attrs,
        num_outputs=2,
        functions=(f"nn.functional.{name}_with_indices",), out_shape=pooled_with_indices(out_shape),
        summary=f"{d}-D adaptive max pooling returning (values, indices into each input plane)",
    ))


for _d in (1, 2):
    adaptive_avg(_d)
    adaptive_max(_d)
