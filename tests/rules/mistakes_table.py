"""The mistakes table: small programs a new user gets wrong, and the few that look wrong but torch accepts.

Each row is written once as source text, one statement a line, and runs with `torch` bound to real
torch, to `gradwire.engine` or to an SDK `Client` (with `np` = numpy and `F` = torch.nn.functional).
`error` is the builtin class torch raises at the last statement (the earlier ones set the mistake up and
must run everywhere). `local` says the mistake can be seen from shapes, dtypes and arguments alone, so the SDK
must raise it before any RPC; value-dependent mistakes (an index tensor's values, a freed graph) may cost
one. Rows with `error=None` must run: the program leaves its result in `out`, compared with torch's.
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Mistake:
    name: str
    source: str
    error: type[Exception] | None
    local: bool = True

    @property
    def statements(self) -> list[str]:
        return [line for line in self.source.strip().splitlines() if line.strip()]

    @property
    def raising_statement(self) -> int | None:
        return None if self.error is None else len(self.statements)


def _rows(error: type[Exception] | None, rows: dict[str, str], **options) -> list[Mistake]:
    return [Mistake(name, source, error, **options) for name, source in rows.items()]


LEAF = "x = torch.tensor([1., 2., 3.], requires_grad=True)\n"

SHAPES = _rows(RuntimeError, {
    "broadcast_add": "torch.ones(3, 4) + torch.ones(2, 4)",
    "broadcast_mul_trailing": "torch.ones(3, 4) * torch.ones(5)",
    "broadcast_compare": "torch.ones(3, 4) < torch.ones(2)",
    "broadcast_inplace_grows_self": "y = torch.ones(3)\ny.add_(torch.ones(2, 3))",
    "where_no_broadcast": "x = torch.ones(3, 4)\ntorch.where(x > 0, x, torch.ones(3))",
    "matmul_inner": "torch.ones(3, 4) @ torch.ones(3, 4)",
    "matmul_batch": "torch.ones(2, 3, 4) @ torch.ones(3, 4, 5)",
    "matmul_0d": "torch.tensor(2.) @ torch.ones(3)",
    "mm_of_vector": "torch.mm(torch.ones(3), torch.ones(3, 2))",
    "mm_inner": "torch.ones(2, 3).mm(torch.ones(2, 3))",
    "bmm_of_matrices": "torch.bmm(torch.ones(3, 4), torch.ones(4, 3))",
    "bmm_batch": "torch.bmm(torch.ones(2, 3, 4), torch.ones(3, 4, 5))",
    "dot_lengths": "torch.dot(torch.ones(3), torch.ones(4))",
    "cat_sizes": "torch.cat([torch.ones(2, 3), torch.ones(2, 4)])",
    "cat_ranks": "torch.cat([torch.ones(2, 3), torch.ones(3)])",
    "stack_sizes": "torch.stack([torch.ones(2), torch.ones(3)])",
    "view_size": "torch.ones(3, 4).view(5, 2)",
    "view_needs_copy": "torch.ones(3, 4).t().view(12)",
    "reshape_size": "torch.ones(3, 4).reshape(5)",
    "reshape_two_inferred": "torch.ones(3, 4).reshape(-1, -1)",
    "expand_non_singleton": "torch.ones(3, 4).expand(2, 4)",
    "expand_fewer_dims": "torch.ones(3, 4).expand(4)",
    "permute_count": "torch.ones(2, 3).permute(0, 1, 2)",
    "permute_repeated": "torch.ones(2, 3).permute(0, 0)",
    "linear_features": "F.linear(torch.ones(2, 3), torch.ones(4, 5))",
    "linear_module_features": "layer = torch.nn.Linear(3, 4)\nlayer(torch.ones(2, 5))",
    "conv2d_channels": "F.conv2d(torch.ones(1, 3, 8, 8), torch.ones(4, 2, 3, 3))",
    "conv2d_rank": "F.conv2d(torch.ones(8, 8), torch.ones(4, 3, 3, 3))",
    "conv2d_kernel_too_big": "F.conv2d(torch.ones(1, 1, 2, 2), torch.ones(1, 1, 3, 3))",
    "mse_loss_sizes": "F.mse_loss(torch.ones(3), torch.ones(4))",
    "sum_repeated_dim": "torch.ones(2, 3).sum(dim=(0, 0))",
    "view_inferred_does_not_fit": "torch.ones(3, 4).view(-1, 5)",
    "repeat_fewer_dims": "torch.ones(2, 3).repeat(2)",
    "topk_too_many": "torch.ones(3).topk(5)",
    "narrow_past_end": "torch.ones(4).narrow(0, 2, 3)",
    "flatten_dims_reversed": "torch.ones(2, 3, 4).flatten(2, 1)",
    "roll_shifts_and_dims": "torch.ones(2, 2).roll(1, dims=(0, 1))",
    "diag_of_3d": "torch.ones(2, 2, 2).diag()",
    "t_of_3d": "torch.ones(2, 2, 2).t()",
    "tril_of_vector": "torch.ones(3).tril()",
    "outer_of_matrix": "torch.outer(torch.ones(2, 2), torch.ones(2))",
    "max_pool_kernel_too_big": "F.max_pool2d(torch.ones(1, 1, 2, 2), 3)",
    "pad_odd_length": "F.pad(torch.ones(2, 2), (1,))",
}) + _rows(ValueError, {
    "cross_entropy_batch": "F.cross_entropy(torch.ones(4, 3), torch.tensor([0, 1]))",
    "cross_entropy_2d_target": "F.cross_entropy(torch.ones(2, 3), torch.tensor([[0, 1]]))",
    "binary_cross_entropy_sizes": "F.binary_cross_entropy(torch.tensor([0.5, 0.5]), torch.tensor([1.]))",
})

DIMS = _rows(IndexError, {
    "sum_dim": "torch.ones(2, 3).sum(2)",
    "sum_negative_dim": "torch.ones(2, 3).sum(dim=-3)",
    "mean_dims": "torch.ones(2, 3).mean(dim=(0, 2))",
    "max_dim": "torch.ones(2, 3).max(dim=3)",
    "softmax_dim": "torch.ones(2, 3).softmax(dim=2)",
    "functional_softmax_dim": "F.softmax(torch.ones(2, 3), dim=5)",
    "log_softmax_dim": "F.log_softmax(torch.ones(2, 3), dim=-3)",
    "cumsum_dim": "torch.ones(2, 3).cumsum(dim=2)",
    "transpose_dim": "torch.ones(2, 3).transpose(0, 2)",
    "squeeze_dim": "torch.ones(2, 3).squeeze(3)",
    "unsqueeze_dim": "torch.ones(2, 3).unsqueeze(4)",
    "cat_dim": "torch.cat([torch.ones(2), torch.ones(2)], dim=1)",
    "gather_dim": "torch.ones(2, 3).gather(2, torch.zeros(2, 3, dtype=torch.long))",
    "index_select_dim": "torch.ones(2, 3).index_select(2, torch.tensor([0]))",
    "flip_dim": "torch.ones(2).flip(1)",
    "argmax_dim": "torch.ones(2).argmax(dim=1)",
    "normalize_dim": "F.normalize(torch.ones(2, 3), dim=2)",
})

DTYPES = _rows(TypeError, {
    "to_numpy_dtype": "torch.tensor([1., 2.]).to(np.float64).dtype",
    "dtype_keyword_string": "torch.ones(2, dtype='float32')",
    "tensor_numpy_dtype": "torch.tensor([1., 2.], dtype=np.float32)",
}) + _rows(RuntimeError, {
    "to_unknown_name": "torch.tensor([1., 2.]).to('float99')",
    "matmul_int_float": "torch.tensor([[1, 2]]) @ torch.ones(2, 1)",
    "mm_float_double": "torch.ones(2, 2).mm(torch.ones(2, 2, dtype=torch.float64))",
    "bool_subtract": "torch.tensor([True]) - torch.tensor([False])",
    "bool_negate": "-torch.tensor([True, False])",
    "mean_of_ints": "torch.tensor([1, 2, 3]).mean()",
    "std_of_ints": "torch.tensor([1, 2, 3]).std()",
    "requires_grad_int_literal": "torch.tensor([1, 2], requires_grad=True)",
    "requires_grad_int_arange": "torch.arange(3, requires_grad=True)",
    "requires_grad_int_zeros": "torch.zeros(2, dtype=torch.int64, requires_grad=True)",
    "requires_grad_int_method": "y = torch.tensor([1, 2])\ny.requires_grad_()",
    "requires_grad_int_attribute": "y = torch.tensor([1, 2])\ny.requires_grad = True",
    "int_power_negative": "y = torch.tensor([-2, 0, 2], dtype=torch.int32) ** -2",
    "int_pow_method_negative": "torch.tensor([3]).pow(-1)",
    "int_inplace_float_result": "y = torch.tensor([1, 2])\ny += 0.5",
    "int_inplace_true_divide": "y = torch.tensor([1, 2])\ny /= 2",
    "int_add_float_alpha": "torch.tensor([1, 2]).add(torch.tensor([1, 1]), alpha=0.5)",
    "clip_none_none": "torch.tensor([1., 2.]).clip(None, None)",
    "clamp_no_bounds": "torch.clamp(torch.ones(2))",
    "where_float_condition": "torch.where(torch.ones(2), torch.ones(2), torch.zeros(2))",
    "masked_fill_float_mask": "torch.ones(2).masked_fill(torch.ones(2), 0.)",
    "embedding_float_indices": "F.embedding(torch.tensor([1.]), torch.ones(3, 2))",
    "nll_loss_float_target": "F.nll_loss(torch.ones(2, 3), torch.tensor([0., 1.]))",
    "one_hot_of_floats": "F.one_hot(torch.tensor([1.]))",
    "mean_of_bools": "torch.tensor([True, False]).mean()",
    "requires_grad_bool": "torch.tensor([True], requires_grad=True)",
    "backward_of_int_result": "y = torch.tensor([1, 2]).sum()\ny.backward()",
    "linear_module_int_input": "layer = torch.nn.Linear(2, 1)\nlayer(torch.tensor([[1, 2]]))",
    "bce_float_double": "F.binary_cross_entropy(torch.full((3,), 0.3), torch.zeros(3, dtype=torch.float64))",
    "bce_with_logits_long_target": "F.binary_cross_entropy_with_logits(torch.ones(3), torch.zeros(3, dtype=torch.long))",
}) + _rows(NotImplementedError, {
    "bitwise_and_floats": "torch.ones(2) & torch.ones(2)",
    "bitwise_or_int_float": "torch.tensor([1, 2]) | torch.ones(2)",
    "bitwise_xor_floats": "torch.ones(2) ^ torch.ones(2)",
    "shift_float": "torch.ones(2) << 1",
    "softmax_of_ints": "torch.tensor([1, 2]).softmax(0)",
    "log_softmax_of_ints": "F.log_softmax(torch.tensor([1, 2]), dim=0)",
    "max_pool1d_of_ints": "F.max_pool1d(torch.arange(8).view(1, 1, 8), 2)",
    "max_pool2d_of_bools": "F.max_pool2d(torch.ones(1, 1, 4, 4) > 0, 2)",
    "avg_pool2d_of_int32": "F.avg_pool2d(torch.ones(1, 1, 4, 4, dtype=torch.int32), 2)",
    "avg_pool1d_of_uint8": "F.avg_pool1d(torch.ones(1, 2, 4, dtype=torch.uint8), 2)",
    "adaptive_avg_pool2d_of_ints": "F.adaptive_avg_pool2d(torch.arange(16).view(1, 1, 4, 4), 2)",
    "adaptive_max_pool1d_of_ints": "F.adaptive_max_pool1d(torch.arange(8).view(1, 1, 8), 2)",
}) + _rows(TypeError, {
    "invert_float": "~torch.tensor([1., 2.])",
}) + _rows(IndexError, {
    "index_with_float_tensor": "torch.ones(3)[torch.tensor([0.])]",
})

ARGUMENTS = _rows(TypeError, {
    "unknown_keyword_method": "torch.ones(2).sum(dimension=0)",
    "unknown_keyword_function": "torch.cat([torch.ones(2)], axis2=0)",
    "unknown_keyword_functional": "F.relu(torch.ones(2), foo=1)",
    "keyword_twice": "torch.ones(2).sum(0, dim=0)",
    "too_few_arguments": "torch.add(torch.ones(2))",
    "too_many_arguments": "torch.ones(2).exp(1)",
    "where_two_arguments": "torch.where(torch.ones(2) > 0, torch.ones(2))",
    "string_for_size": "torch.ones('3')",
    "string_for_view": "torch.ones(2, 3).view('a')",
    "string_for_repeats": "torch.ones(2).repeat('2')",
    "float_for_dim": "torch.ones(2, 3).sum(dim=1.5)",
    "float_for_view_size": "torch.ones(4).view(2.0, 2)",
    "list_in_cat": "torch.cat([torch.ones(2), [1., 2.]])",
    "add_string": "torch.ones(2) + 'a'",
    "sum_of_list": "torch.sum([1, 2])",
    "exp_of_number": "torch.exp(2)",
    "cumsum_without_dim": "torch.ones(3).cumsum()",
    "std_unbiased_and_correction": "torch.ones(3).std(unbiased=True, correction=0)",
    "sequential_of_int": "torch.nn.Sequential(3)",
}) + _rows(RuntimeError, {
    "arange_zero_step": "torch.arange(0, 1, 0)",
    "zeros_negative_size": "torch.zeros(-1)",
    "split_size_zero": "torch.ones(4).split(0)",
    "chunk_zero": "torch.ones(4).chunk(0)",
    "linear_negative_features": "torch.nn.Linear(-1, 2)",
}) + _rows(ValueError, {
    "ragged_list": "torch.tensor([[1., 2.], [3.]])",
    "dropout_probability": "F.dropout(torch.ones(2), p=1.5)",
    "loss_module_reduction": "loss = torch.nn.MSELoss(reduction='avg')\nloss(torch.ones(2), torch.ones(2))",
    "optimizer_of_non_leaf": LEAF + "torch.optim.SGD([x * 2], lr=0.1)",
    "optimizer_of_nothing": "torch.optim.SGD([], lr=0.1)",
    "optimizer_negative_lr": LEAF + "torch.optim.SGD([x], lr=-1)",
    "mse_loss_reduction": "F.mse_loss(torch.ones(2), torch.ones(2), reduction='avg')",
    "l1_loss_reduction": "F.l1_loss(torch.ones(2), torch.ones(2), reduction='none_')",
    "cross_entropy_reduction": "F.cross_entropy(torch.ones(2, 3), torch.tensor([0, 1]), reduction='total')",
})

AUTOGRAD = _rows(RuntimeError, {
    "inplace_leaf_add_": LEAF + "x.add_(1)",
    "inplace_leaf_iadd": LEAF + "x += 1",
    "inplace_leaf_setitem": LEAF + "x[0] = 1.",
    "inplace_leaf_zero_": LEAF + "x.zero_()",
    "inplace_leaf_fill_": LEAF + "x.fill_(2.)",
    "inplace_leaf_view": LEAF + "x[:2].mul_(2)",
    "inplace_flag_on_leaf": LEAF + "F.relu(x, inplace=True)",
    "inplace_flag_module_on_leaf": LEAF + "torch.nn.ELU(inplace=True)(x)",
    "backward_non_scalar": LEAF + "(x * 2).backward()",
    "backward_without_grad": "y = torch.ones(2)\ny.sum().backward()",
    "backward_under_no_grad": LEAF + "with torch.no_grad(): y = (x * 2).sum()\ny.backward()",
    "backward_gradient_shape": LEAF + "(x * 2).backward(torch.ones(2))",
    "grad_of_constant": LEAF + "y = torch.ones(3)\ntorch.autograd.grad(y.sum(), x)",
    "grad_of_unused_input": LEAF + "z = torch.ones(2, requires_grad=True)\ntorch.autograd.grad((x * 2).sum(), z)",
    "requires_grad_off_non_leaf": LEAF + "y = x * 2\ny.requires_grad_(False)",
    "numpy_of_requires_grad": LEAF + "x.numpy()",
    "item_of_vector": "torch.ones(2).item()",
    "bool_of_vector": "bool(torch.ones(2))",
    "backward_of_detached": LEAF + "y = (x * 2).detach().sum()\ny.backward()",
    "grad_assigned_wrong_shape": LEAF + "x.grad = torch.ones(2)",
    "grad_assigned_wrong_dtype": LEAF + "x.grad = torch.ones(3, dtype=torch.float64)",
}) + _rows(ValueError, {
    "int_of_vector": "int(torch.ones(2))",
}) + _rows(TypeError, {
    "len_of_scalar": "len(torch.tensor(1.))",
    "iterate_scalar": "list(torch.tensor(1.))",
}) + _rows(AttributeError, {
    "zero_grad_before_backward": LEAF + "x.grad.zero_()",
}) + [
    Mistake("backward_twice", LEAF + "y = (x * x).sum()\ny.backward()\ny.backward()", RuntimeError,
            local=False),
    # huber_loss's forward keeps the input's dtype; its backward kernel refuses the float32 target
    Mistake("huber_double_float_backward", "x = torch.ones(3, dtype=torch.float64, requires_grad=True)\n"
            "y = F.huber_loss(x, torch.zeros(3))\ny.backward()", RuntimeError, local=False),
    Mistake("inplace_on_saved_output", LEAF + "y = x.sigmoid()\ny.mul_(2)\ny.sum().backward()", RuntimeError,
            local=False),
]

INDICES = _rows(IndexError, {
    "index_past_end": "torch.ones(3)[3]",
    "index_before_start": "torch.ones(3)[-4]",
    "index_too_many_dims": "torch.ones(3)[0, 0]",
    "index_ellipses_past_last_dim": "torch.ones(2, 3)[..., ..., 0]",
    "setitem_past_end": "y = torch.ones(3)\ny[3] = 1.",
}) + _rows(IndexError, {
    "index_tensor_past_end": "torch.ones(3)[torch.tensor([5])]",
    "index_select_past_end": "torch.ones(3).index_select(0, torch.tensor([3]))",
    "cross_entropy_target_past_end": "F.cross_entropy(torch.ones(2, 3), torch.tensor([0, 3]))",
    "embedding_past_end": "F.embedding(torch.tensor([5]), torch.ones(3, 2))",
}, local=False) + _rows(RuntimeError, {
    "gather_past_end": "torch.ones(3).gather(0, torch.tensor([5]))",
    "binary_cross_entropy_input_past_one": "F.binary_cross_entropy(torch.tensor([2.]), torch.tensor([1.]))",
}, local=False)

# Programs that look like mistakes but torch runs: the SDK and the engine must run them too.
ACCEPTED = _rows(None, {
    "var_axis_tuple": "out = torch.tensor([[1., 2.], [3., 5.]]).var(axis=(0, 1))",
    "sum_axis_keyword": "out = torch.tensor([[1., 2.], [3., 5.]]).sum(axis=0)",
    "sum_keepdim_negative_dim": "out = torch.tensor([[1., 2.], [3., 5.]]).sum(dim=-1, keepdim=True)",
    "invert_int": "out = ~torch.tensor([1, -8, 1], dtype=torch.int32)",
    "int_power_positive": "out = torch.tensor([-2, 0, 2], dtype=torch.int32) ** 2",
    "float_power_negative": "out = torch.tensor([-2., 1., 2.]) ** -2",
    "clip_upper_only": "out = torch.tensor([1., 2.]).clip(None, 1.5)",
    "mean_of_ints_with_dtype": "out = torch.tensor([1, 2]).mean(dtype=torch.float32)",
    "int_plus_float_scalar": "out = torch.tensor([1, 2]) + 0.5",
    "squeeze_non_singleton": "out = torch.ones(2, 3).squeeze(0)",
    "amax_dim_tuple": "out = torch.tensor([[1., 7.], [3., 5.]]).amax(dim=(0, 1))",
    "std_correction": "out = torch.tensor([1., 2., 4.]).std(correction=0)",
    "inplace_leaf_under_no_grad": LEAF + "with torch.no_grad(): x.add_(1)\nout = x * 1",
    "inplace_on_detached_leaf": LEAF + "out = x.detach()\nout.add_(1)",
    "backward_twice_retain_graph":
        LEAF + "y = (x * x).sum()\ny.backward(retain_graph=True)\ny.backward()\nout = x.grad",
    "clamp_min_above_max": "out = torch.tensor([1., 5.]).clamp(3, 2)",
    "var_correction_past_size": "out = torch.tensor([1., 2., 4.]).var(correction=5)",
    "float_of_element_requiring_grad": LEAF + "out = float(x[0])",
    "inplace_on_non_leaf_before_backward": LEAF + "y = x * 1\nz = y.exp()\ny.add_(1)\nz.sum().backward()\nout = x.grad",
    "grad_of_create_graph_written_in_place":
        "x = torch.ones(2, 3, requires_grad=True)\nx.sum().backward(create_graph=True)\n"
        "with torch.no_grad(): x.grad.add_(1)\nout = x.grad",
    "optimizer_of_constant_tensor": "opt = torch.optim.SGD([torch.ones(2)], lr=0.1)\nout = len(opt.param_groups)",
    "max_pool2d_of_ints": "out = F.max_pool2d(torch.arange(16).view(1, 1, 4, 4) * 7 % 11, 2)",
    "avg_pool2d_of_int64": "out = F.avg_pool2d(torch.arange(16).view(1, 1, 4, 4) * 7 % 11 - 5, 3, 2, 1)",
    "mse_loss_float_double": "out = F.mse_loss(torch.ones(3), torch.zeros(3, dtype=torch.float64))",
    "cross_entropy_double_probabilities":
        "out = F.cross_entropy(torch.ones(2, 3), torch.full((2, 3), 0.2, dtype=torch.float64))",
    "huber_keeps_input_dtype": "out = F.huber_loss(torch.ones(3, dtype=torch.float64), torch.zeros(3))",
    "bce_with_logits_takes_target_dtype":
        "out = F.binary_cross_entropy_with_logits(torch.ones(3, dtype=torch.float64), torch.zeros(3))",
    "index_two_ellipses": "out = torch.arange(24.).view(2, 3, 4)[..., 0, ...]",
    "setitem_two_ellipses": "out = torch.zeros(2, 3)\nout[..., 1, ...] = 5.",
    "new_factories_take_the_dtype": "x = torch.arange(6.).view(2, 3)\n"
        "out = x.new_zeros(2) + x.new_ones(2) + x.new_full((2,), 3.) + x.new_tensor([1, 2]) + x.new_empty(2) * 0",
    "new_zeros_dtype": "out = torch.ones(2).new_zeros((2, 3), dtype=torch.int64)",
    "type_as": "out = torch.arange(3.).type_as(torch.ones(1, dtype=torch.float64))",
    "contiguous_of_transpose": "out = torch.arange(6.).view(2, 3).T.contiguous()",
    "sum_with_dtype": "out = torch.arange(4).sum(dtype=torch.float64)",
    "add_with_alpha": LEAF + "y = x * 1\ny.add_(torch.ones(3), alpha=-0.1)\nout = torch.sub(y, x, alpha=2)",
    "where_method": LEAF + "out = x.where(x > 1.5, torch.zeros(3))",
    "where_method_scalar": "out = torch.arange(6.).view(2, 3).where(torch.arange(6).view(2, 3) > 2, 0.)",
    "is_contiguous_and_element_size": "y = torch.ones(2, 3, dtype=torch.float64)\n"
        "out = torch.tensor([y.is_contiguous(), y.element_size()])",
    "inplace_flag_on_non_leaf": LEAF + "y = x * 2\nF.leaky_relu(y, 0.2, inplace=True)\n(y * y).sum().backward()\nout = x.grad",
})

MISTAKES = SHAPES + DIMS + DTYPES + ARGUMENTS + AUTOGRAD + INDICES + ACCEPTED

# The five programs issue 9 opens with, as a new user tried them.
ISSUE_EXAMPLES = ("int_power_negative", "clip_none_none", "to_numpy_dtype", "invert_int", "var_axis_tuple")

# The ops added for common idioms (addcmul, cdist, diff, the stackers, searches, more losses): their mistakes,
# and two idioms that must run.
IDIOMS = _rows(RuntimeError, {
    "cdist_columns": "torch.cdist(torch.ones(3, 4), torch.ones(2, 3))",
    "cdist_of_vectors": "torch.cdist(torch.ones(3), torch.ones(3))",
    "cdist_of_ints": "torch.cdist(torch.ones(3, 3, dtype=torch.long), torch.ones(3, 3, dtype=torch.long))",
    "diff_of_0d": "torch.diff(torch.tensor(1.))",
    "diff_prepend_shape": "torch.diff(torch.ones(3, 4), dim=0, prepend=torch.ones(1, 3))",
    "hstack_sizes": "torch.hstack([torch.ones(2, 3), torch.ones(3, 3)])",
    "vstack_of_nothing": "torch.vstack([])",
    "rot90_of_vector": "torch.rot90(torch.ones(3))",
    "rot90_same_dims": "torch.rot90(torch.ones(3, 3), 1, [0, 0])",
    "block_diag_3d": "torch.block_diag(torch.ones(2, 2, 2))",
    "bucketize_2d_boundaries": "torch.bucketize(torch.ones(3), torch.ones(2, 2))",
    "searchsorted_side_and_right": "torch.searchsorted(torch.arange(3.), torch.ones(2), side='left', right=True)",
    "linalg_norm_ord_of_3d": "torch.linalg.norm(torch.ones(2, 3, 4), 2)",
    "nanmean_of_ints": "torch.nanmean(torch.arange(3))",
    "addcdiv_of_ints": "torch.addcdiv(torch.ones(3), torch.arange(3), torch.arange(1, 4))",
    "heaviside_dtypes": "torch.heaviside(torch.ones(3), torch.ones(3, dtype=torch.float64))",
    "cartesian_prod_dtypes": "torch.cartesian_prod(torch.ones(2), torch.arange(3))",
    "cartesian_prod_of_matrix": "torch.cartesian_prod(torch.ones(2, 2), torch.ones(2))",
    "trapezoid_x_length": "torch.trapezoid(torch.ones(3, 4), torch.arange(3.))",
}) + _rows(ValueError, {
    "gaussian_nll_var_size": "F.gaussian_nll_loss(torch.ones(3, 4), torch.ones(3, 4), torch.ones(2))",
    "multi_margin_p3": "F.multi_margin_loss(torch.ones(3, 4), torch.tensor([0, 1, 2]), p=3)",
}) + _rows(None, {
    "adam_step_in_place": LEAF + "m = torch.zeros(3)\nv = torch.zeros(3)\ng = x * 0.5 + 1\n"
        "m.mul_(0.9).add_(g, alpha=0.1)\nv.mul_(0.999).addcmul_(g, g, value=0.001)\n"
        "out = (x * 1).addcdiv_(m, v.sqrt().add_(1e-8), value=-0.01)",
    "nonzero_rows_index": "x = torch.tensor([[0., 1.], [2., 0.], [3., 4.]])\nout = x[torch.nonzero(x[:, 0])[:, 0]]",
})

MISTAKES = MISTAKES + IDIOMS
