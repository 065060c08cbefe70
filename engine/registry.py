"""The op registry: the one list of ops.

Each entry (an OpDef) holds a numpy forward, one vector-Jacobian product (VJP) per differentiable input,
its dtype rule, its attributes and PyTorch's grad_fn name. Tensor methods and operators, the module
functions, the server's op lookup and the op catalogue are all generated from this table: adding an op
is one `register(...)` call (plus one row in the test table, which fails for an op that has none).

A VJP is written once as `vjp(F, g, ctx)` and serves both backward modes: F is a math namespace over
numpy arrays for plain backward, or over Tensors (so the backward is itself recorded) for
create_graph=True. It returns the gradient for its input *before* broadcast reduction: the engine sums
it back to the input's shape in one place (broadcast.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Callable, Mapping, Sequence

from .errors import ArgumentError, UnknownOpError

@dataclass(frozen=True)
class AttrSpec:
    name: str
    kind: str
    required: bool = False
    default: Any = None
    # Other keyword spellings torch accepts for this attribute (numpy's `axis` for `dim`, `input` ...).
    aliases: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class OpDef:
    """One op: forward, VJPs, dtype rule, attributes and how Python calls it."""

    name: str
    # forward(arrays, attrs) -> ndarray, or a tuple for ops with several outputs. `arrays` holds numpy
    # arrays already cast to the compute dtype, and Python scalars as they were given.
    forward: Callable[..., Any]
    # One VJP per input position (None where the op is not differentiable in that input); variadic ops
    # give one VJP taking the input position as a fourth argument.
    vjps: tuple[Callable[..., Any] | None, ...] = ()
    variadic_vjp: Callable[..., Any] | None = None
    # PyTorch's grad_fn name, or a function of the Ctx choosing between variants.
    grad_fn: str | Callable[[Any], str] = ""
    # dtype_rule(operand_dtypes, operands, attrs) -> (compute_dtype, result_dtype); see promotion.py.
    dtype_rule: Callable[..., Any] | None = None
    # Which values the VJPs read, saved at forward and freed after a backward without retain_graph.
    saves_inputs: tuple[int, ...] = ()
    saves_all_inputs: bool = False
    saves_output: bool = False
    min_inputs: int = 1
    max_inputs: int = 1  # -1: any number
    attrs: tuple[AttrSpec, ...] = ()
    num_outputs: int = 1
    inplace: bool = False
    differentiable: bool = True
    # The result shares memory with input 0 (shares its version counter too).
    view: bool = False
    # out_shape(shapes, attrs) -> shape, for ops whose result can outgrow their inputs: the memory
    # budget is charged before the forward allocates. None: the result is no larger than the inputs.
    out_shape: Callable[..., tuple[int, ...]] | None = None
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
    extra: Mapping[str, Any] = field(default_factory=dict)

    def grad_fn_name(self, ctx: Any) -> str:
        return self.grad_fn(ctx) if callable(self.grad_fn) else self.grad_fn

    def vjp_for(self, position: int) -> Callable[..., Any] | None:
        if self.variadic_vjp is not None:
            variadic = self.variadic_vjp
            return lambda F, g, ctx: variadic(F, g, ctx, position)
        return self.vjps[position] if position < len(self.vjps) else None

    def parse_call(self, args: Sequence[Any], kwargs: Mapping[str, Any]) -> tuple[list[Any], dict[str, Any]]:
        """Split a Python call into operands and attributes (generic: operands first, then attrs)."""
        if self.parse is not None:
            return self.parse(args, dict(kwargs))
        if self.signature:
            return self._parse_signature(args, kwargs)
        if self.max_inputs == -1:
            operands = list(args[0]) if args else []
            rest = list(args[1:])
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
        return operands, attrs

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


OPS: dict[str, OpDef] = {}

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
}


def _described(op: OpDef) -> OpDef:
    if all(spec.description for spec in op.attrs):
        return op
    attrs = tuple(spec if spec.description else replace(spec, description=COMMON_DESCRIPTIONS.get(spec.name, ""))
                  for spec in op.attrs)
    return replace(op, attrs=attrs)


def register(op: OpDef) -> OpDef:
    if op.name in OPS:
        raise ValueError(f"op {op.name!r} registered twice")
    op = _described(op)
    OPS[op.name] = op
    return op


def get(name: str) -> OpDef:
    """The op called `name`; UnknownOpError naming the nearest names if there is none."""
    try:
        return OPS[name]
    except KeyError:
        import difflib

        near = difflib.get_close_matches(name, OPS, n=3)
        hint = f"; did you mean {', '.join(near)}?" if near else "; ListOps gives the catalogue"
        raise UnknownOpError(f"unknown op {name!r}{hint}") from None
