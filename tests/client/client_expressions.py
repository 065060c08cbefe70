"""Expressions over x, y (1-D), m (2-D) and b (3-D) tensors that require grad, one per grad_fn variant;
shared by the semantics tests (against torch) and the metadata-inference tests (against the server)."""

GRAD_FN_EXPRESSIONS = [
    "x + y", "x - y", "2 - x", "x * y", "x / y", "-x", "x ** 2", "x ** y", "2 ** x", "m @ m", "x @ y",
    "b @ b", "x.sum()", "m.sum(0)", "x.mean()", "m.mean(1)", "x.exp()", "x.log()", "x.sqrt()", "x.tanh()",
    "x.sigmoid()", "x.relu()", "x.abs()", "x[0]", "x[0:1]", "x[[0, 1]]", "x[x > 1]", "m.view(4)",
    "m.reshape(4)", "x.expand(3, 2)", "m.T", "t.cat([x, y])", "x.to(t.float64)", "2 / x",
    "t.stack([x, y])", "t.where(x > 1, x, y)", "t.maximum(x, y)", "m.max()", "m.max(1)[0]", "x.clamp(min=1.5)",
    "x.unsqueeze(0)", "m[None]", "m.softmax(0)", "m.permute(1, 0)", "m.transpose(0, 1)", "x.clone()",
    "t.exp(x)", "t.sqrt(x)", "t.tanh(m)", "t.minimum(x, y)", "t.sum(m, 1)", "t.matmul(m, x)", "t.abs(x)",
    "t.max(m, 1)[0]", "t.where(m > 2, m, 0.)", "t.stack([x, y], 1)", "t.cat([m, m], 1)", "x.double() * 2", "m.t()", "b[0, :, [1, 0]]", "b[[0, 1], :, 0]", "b[:, [1], [0]]",
    "t.mm(m, m)", "t.mv(m, x)", "t.dot(x, y)", "t.bmm(b, b)", "x.t()",
    "x.clamp(min=y)", "t.clamp(m, x, y)", "m.var()", "m.var(0)", "m.var(0, False)", "m.var(False)",
    "m.var(1, True, True)", "m.var(dim=0, correction=0)",
]
