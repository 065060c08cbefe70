"""What an op is, apart from how it computes: its call, attributes, spellings and result rules.

An OpRules entry holds, for one op: how a Python call is parsed into operands and attributes (arity,
positional order, torch's keyword aliases, defaults), how Python spells it (methods, functions, operators),
and the rules of its result: the shape rule, the dtype rule, the grad_fn name, whether it is a view and
whether it is differentiable. Each rule raises the error torch raises for a mistake (errors.py).

Rules are written against anything with a `shape` and a `dtype` (the engine's Tensor, the SDK's lazy
metadata) and Python scalars; they never see a Tensor class or tensor values. The engine's op entries
(engine/registry.py OpDef) extend these with the numpy forward and the VJPs; the SDK looks the same entries
up by the name and version the server's catalogue gives (`OpRules.rules_id`), and an op it has no entry
for keeps working with the server's metadata.

The rule signatures:
- `out_shape(shapes, attrs) -> shape` (a list of shapes for an op with several outputs): `shapes` has one
  tuple per operand, () for a Python scalar or an absent optional operand; a `Bound` where the shape
  depends on tensor values (an upper bound: the engine checks exact shapes against its forward's);
- `dtype_rule(operand_dtypes, operands, attrs) -> (compute dtype, result dtype)`: operand_dtypes[i] is None
  for a Python scalar (operands[i] is then the number) or an absent optional operand; the result dtype of an
  op with several outputs is its first output's (the others are int64 indices unless `output_dtypes` says);
- `grad_fn(call) -> str | None`, when the name depends on the call: `call` has `attrs`, `scalar_mask`
  (per operand: a Python scalar?), `input_shapes`, `input_dtypes` and `grad_mask` (per operand: does a
  gradient flow to it?); None when only running the op can tell.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any, Callable, Mapping, Sequence

from gradwire.rules.errors import ArgumentError, UnknownOpError

# The attribute kind of an optional tensor operand (bias=None, weight=None): it is listed among the
# attributes at its place in torch's signature, so callers spell it positionally or by keyword, but
# it travels as an operand. The op's operands are its min_inputs required ones, then one per "tensor"
# attribute in order (None where absent; on the wire an empty Operand, trailing ones may be left out).
OPTIONAL_OPERAND = "tensor"
# An optional operand the op may also update in place (batch_norm's running statistics in training).
UPDATED_OPERAND = "tensor|updated"
OPERAND_KINDS = (OPTIONAL_OPERAND, UPDATED_OPERAND)


class Bound(tuple):
    """A shape rule's answer for a result whose shape depends on tensor values (a boolean mask's count,
    nonzero, unique): an upper bound the budget charges; the SDK leaves such a shape to the server."""

    __slots__ = ()


@dataclass(frozen=True)
class AttrSpec:
    name: str
    kind: str
    required: bool = False
    default: Any = None
    # Other keyword spellings torch accepts for this attribute (numpy's `axis` for `dim`, `input` ...).
    aliases: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True, kw_only=True)
class OpRules:
    """One op's rules: its call, spellings and result rules (see the module docstring)."""

    name: str
    # PyTorch's grad_fn name, or a function of the call choosing between variants.
    grad_fn: str | Callable[[Any], str | None] = ""
    # dtype_rule(operand_dtypes, operands, attrs) -> (compute_dtype, result_dtype); see promotion.py.
    dtype_rule: Callable[..., Any] | None = None
    # dtypes of the outputs after the first, where they are not int64 indices (None: the first's dtype).
    output_dtypes: tuple[Any, ...] = ()
    min_inputs: int = 1
    max_inputs: int = 1  # -1: any number
    attrs: tuple[AttrSpec, ...] = ()
    num_outputs: int = 1
    inplace: bool = False
    # Derive an in-place variant `<name>_` (and `__iadd__`-style operators) from this op.
    inplace_variant: bool = True
    differentiable: bool = True
    # The result shares memory with input 0 (shares its version counter too).
    view: bool = False
    # out_shape(shapes, attrs) -> the result's shape; raises torch's error for shapes the op refuses. The
    # memory budget charges the result before the forward allocates.
    out_shape: Callable[..., Any] | None = None
    # work(shapes, attrs) -> elements of work, for ops costlier than reading their operands and writing
    # their result (a matrix product's multiply-adds); checked against the request's work bound up front.
    work: Callable[..., int] | None = None
    # How Python spells it: Tensor method names, module function names, operator dunders. A dotted
    # function name puts the function in that namespace: "nn.functional.relu6", "linalg.inv", "special.erf".
    methods: tuple[str, ...] = ()
    functions: tuple[str, ...] = ()
    operators: tuple[str, ...] = ()
    reflected_operators: tuple[str, ...] = ()
    # parse(args, kwargs) -> (operands, attrs) when the generic positional/keyword mapping won't do.
    parse: Callable[..., tuple[list[Any], dict[str, Any]]] | None = None
    summary: str = ""
    # Names of the outputs of a multi-output op (torch's named tuple fields: values, indices).
    output_names: tuple[str, ...] = ()
    # pieces(input_shapes, attrs) -> n for an op whose n outputs are all differentiable (split, aminmax,
    # svd): it is run once per output with the attribute `output` = k, each run one graph node.
    pieces: Callable[..., int] | None = None
    # torch's positional order where operands and attributes interleave: ("input", "dim", "index") names
    # operands (those not among attrs, in operand order) and attributes. Keywords may name operands.
    signature: tuple[str, ...] = ()
    # Engine plumbing with no torch spelling (the gradient of indexing, writes through views).
    internal: bool = False
    # Bumped whenever a rule of this op changes meaning, so an SDK holding an older copy falls back to
    # the server's metadata instead of guessing (the catalogue sends `rules_id`).
    version: int = 1

    @property
    def rules_id(self) -> str:
        return f"{self.name}@{self.version}"

    @cached_property
    def operand_attrs(self) -> tuple[str, ...]:
        """Names of the optional tensor operands, in operand order (after the min_inputs required ones)."""
        return tuple(spec.name for spec in self.attrs if spec.kind in OPERAND_KINDS)

    def place_operands(self, operands: list[Any], attrs: dict[str, Any]) -> tuple[list[Any], dict[str, Any]]:
        """Moves optional tensor operands given as attributes (bias=b) to their operand positions."""
        names = self.operand_attrs
        if not names or not any(self.canonical_attr(key) in names for key in attrs):
            return operands, attrs
        attrs = {self.canonical_attr(key): value for key, value in attrs.items()}
        operands = list(operands)
        if len(operands) != self.min_inputs:
            raise ArgumentError(f"{self.name}() takes {self.min_inputs} tensors before its optional ones "
                                f"({', '.join(names)}), got {len(operands)}")
        operands.extend(attrs.pop(name, None) for name in names)
        return operands, attrs

    def grad_fn_name(self, ctx: Any) -> str:
        return self.grad_fn(ctx) if callable(self.grad_fn) else self.grad_fn

    def parse_call(self, args: Sequence[Any], kwargs: Mapping[str, Any]) -> tuple[list[Any], dict[str, Any]]:
        """Split a Python call into operands and attributes (generic: operands first, then attrs)."""
        if self.parse is not None:
            return self.parse(args, dict(kwargs))
        if self.signature:
            return self._parse_signature(args, kwargs)
        if self.max_inputs == -1:
            operands = list(args[0]) if args else []
            rest = list(args[1:])
        elif self.operand_attrs:  # optional operands are taken in attribute order
            operands = list(args[: self.min_inputs])
            rest = list(args[self.min_inputs :])
        else:
            operands = list(args[: self.max_inputs])
            rest = list(args[self.max_inputs :])
        attrs: dict[str, Any] = {}
        if len(rest) > len(self.attrs):
            raise ArgumentError(f"{self.name}() takes at most {self.max_inputs + len(self.attrs)} arguments")
        for spec, value in zip(self.attrs, rest):
            attrs[spec.name] = value
        for key, value in kwargs.items():
            key = self.canonical_attr(key)
            if key in attrs:
                raise ArgumentError(f"{self.name}() got multiple values for argument '{key}'")
            attrs[key] = value
        return self.place_operands(operands, attrs)

    def _parse_signature(self, args: Sequence[Any], kwargs: Mapping[str, Any]) -> tuple[list[Any], dict[str, Any]]:
        if len(args) > len(self.signature):
            raise ArgumentError(f"{self.name}() takes at most {len(self.signature)} arguments ({', '.join(self.signature)})")
        names = [entry.split("|")[0] for entry in self.signature]  # "src|value": operand src, keyword value too
        named = dict(zip(names, args))
        for key, value in kwargs.items():
            key = next((entry.split("|")[0] for entry in self.signature if key in entry.split("|")),
                       self.canonical_attr(key))
            if key in named:
                raise ArgumentError(f"{self.name}() got multiple values for argument '{key}'")
            named[key] = value
        attr_names = {spec.name for spec in self.attrs}
        operand_names = [name for name in names if name not in attr_names]
        operands = []
        for name in operand_names:
            if name in named:
                operands.append(named.pop(name))
            elif len(operands) < self.min_inputs:
                raise ArgumentError(f"{self.name}() missing required argument '{name}'")
        return operands, named

    def canonical_attr(self, keyword: str) -> str:
        """The attribute a keyword names: its own name, or the attribute that lists it as an alias."""
        for spec in self.attrs:
            if keyword in spec.aliases:
                return spec.name
        return keyword



# Descriptions of attributes that many ops share, for specs that do not give their own.
COMMON_DESCRIPTIONS = {
    "dim": "the dim (or dims) to work along; negative counts from the end",
    "dims": "the dims to work on; negative counts from the end",
    "dim0": "the first dim", "dim1": "the second dim",
    "keepdim": "keep reduced dims with size 1",
    "dtype": "the dtype of the result",
    "index": "the index expression (ints, slices, None, Ellipsis, integer or boolean tensors)",
    "shape": "the sizes of the result (-1 infers one size)",
    "min": "the lower bound (None: no lower bound)", "max": "the upper bound (None: no upper bound)",
    "correction": "subtract this from the element count (Bessel's correction: 1)",
    "unbiased": "older spelling of correction: True is 1, False is 0",
    "requires_grad": "whether autograd records operations on the tensor",
    "tensor_bounds": "which bounds are tensors given as extra operands: min, max or both",
    # random fills, .grad and the nn.functional ops (written with the ops of other families)
    "mean": "the mean of the normal distribution", "std": "the standard deviation of the normal distribution",
    "from": "the lower end of the uniform range", "to": "the upper end of the uniform range",
    "set_to_none": "drop the gradient (None) instead of filling it with zeros",
    "bias": "an optional tensor added to the result", "weight": "an optional per-class (or per-element) weight",
    "ignore_index": "targets with this class index add nothing to the loss",
    "reduction": "'mean', 'sum' or 'none' (no reduction)", "label_smoothing": "mix this much of a uniform target in",
    "beta": "the width of the quadratic region", "delta": "where the loss turns from quadratic to linear",
    "pos_weight": "a weight for the positive examples, per class", "log_target": "the target is given as log-probabilities",
    "log_input": "the input is the log of the rate", "full": "add the Stirling approximation term",
    "eps": "a small value keeping a logarithm finite", "margin": "the margin of the ranking / embedding loss",
    # convolution, pooling, normalisation, dropout and the other torch.nn.functional ops
    "stride": "the step of the sliding window, one int or one per spatial dim",
    "padding": "implicit zero padding on both sides, per spatial dim ('same' / 'valid' for convolutions)",
    "dilation": "the spacing between kernel elements",
    "groups": "split the input channels into this many groups, each with its own filters",
    "output_padding": "extra size added to one side of each spatial dim of a transposed convolution's output",
    "kernel_size": "the size of the window, one int or one per spatial dim",
    "ceil_mode": "round the output size up instead of down", "return_indices": "also return the argmax indices",
    "count_include_pad": "count the zero padding in the average", "divisor_override": "divide by this instead of the window size",
    "output_size": "the size of the output's spatial dims", "input_size": "the shape of the input being differentiated",
    "weight_size": "the shape of the weight being differentiated", "size": "the output size",
    "p": "the probability of an element being zeroed (dropout) or the norm's exponent",
    "training": "apply dropout / use batch statistics (True) or act as in evaluation (False)",
    "inplace": "change the input in place: Python calls with inplace=True run the op's variant `<name>_`",
    "running_mean": "the running mean, updated in place in training mode",
    "running_var": "the running variance, updated in place in training mode",
    "momentum": "the weight of the new batch statistics in the running ones",
    "use_input_stats": "normalise with the input's own statistics", "normalized_shape": "the trailing dims to normalise over",
    "num_groups": "the number of channel groups", "alpha": "the scale of the squared sum (local response norm)",
    "k": "the additive constant (local response norm)", "padding_idx": "the entry whose gradient stays zero",
    "max_norm": "renormalise embedding rows whose norm exceeds this", "norm_type": "the p of the max_norm norm",
    "scale_grad_by_freq": "scale gradients by the inverse frequency of the words in the batch",
    "sparse": "torch's sparse-gradient flag (dense gradients here)", "num_weights": "the number of embedding rows",
    "num_classes": "the number of classes (-1: one more than the largest value)",
    "upscale_factor": "the factor to move from channels to each spatial dim",
    "downscale_factor": "the factor to move from each spatial dim to channels",
    "swap": "use the distance to the negative's closest example (triplet loss)",
    "scale_factor": "the multiplier of each spatial size", "mode": "the interpolation mode: nearest, linear or bilinear",
    "align_corners": "align the corner pixels of the input and output",
    "recompute_scale_factor": "compute the scale from the output size", "antialias": "torch's antialias flag (not supported)",
}


def _described(op: OpRules) -> OpRules:
    if all(spec.description for spec in op.attrs):
        return op
    attrs = tuple(spec if spec.description else replace(spec, description=COMMON_DESCRIPTIONS.get(spec.name, ""))
                  for spec in op.attrs)
    return replace(op, attrs=attrs)


RULES: dict[str, OpRules] = {}


def define(op: OpRules) -> OpRules:
    """Adds one op's rules to the table (attributes without a description get the common one)."""
    if op.name in RULES:
        raise ValueError(f"rules for {op.name!r} defined twice")
    op = _described(op)
    RULES[op.name] = op
    return op


def rules_of(name: str) -> OpRules:
    """The rules of the op called `name`; UnknownOpError naming the nearest names if there are none."""
    op = RULES.get(name)
    return op if op is not None else unknown_op(name, RULES)


def unknown_op(name: str, table: Mapping[str, Any], otherwise: str = "") -> Any:
    """Raises UnknownOpError for `name`, naming the nearest names of `table` (or `otherwise`)."""
    import difflib

    near = difflib.get_close_matches(name, table, n=3)
    hint = f"; did you mean {', '.join(near)}?" if near else otherwise
    raise UnknownOpError(f"unknown op {name!r}{hint}")


def lookup(rules_id: str) -> OpRules | None:
    """The local rules a catalogue entry names ("add@1"), or None when this copy has other (or no) rules."""
    name, _, version = rules_id.rpartition("@")
    found = RULES.get(name)
    return found if found is not None and str(found.version) == version else None
