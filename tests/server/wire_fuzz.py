"""A seeded generator of gradwire.v1 requests for the wire fuzzer: valid graphs built from the server's own
op catalogue (ListOps), then mutations of every field (dtypes, shapes, bytes, ids, refs, attributes,
session ids, streams), and some requests whose serialized bytes are corrupted.

    fuzz = WireFuzz(random.Random(seed), catalogue)
    kind, request = fuzz.request(session_ids, known_ids)
"""

from __future__ import annotations

import math
import random
from typing import Any

import numpy as np

from gradwire.v1 import gradwire_pb2 as pb

DTYPES = {pb.DTYPE_FLOAT32: np.float32, pb.DTYPE_FLOAT64: np.float64, pb.DTYPE_INT32: np.int32,
          pb.DTYPE_INT64: np.int64, pb.DTYPE_BOOL: np.bool_, pb.DTYPE_FLOAT16: np.float16,
          pb.DTYPE_INT8: np.int8, pb.DTYPE_UINT8: np.uint8, pb.DTYPE_INT16: np.int16}
ODD_IDS = ["", "a:b", "a b", "é", "\x00", "x" * 300, "y" * 5000, "ok\n", "👍", ":", "a:9"]
ODD_INTS = [-(1 << 63), -(1 << 40), -70, -65, -1, 0, 1, 2, 64, 65, 1 << 31, 1 << 40, (1 << 63) - 1]
ODD_REALS = [float("inf"), float("-inf"), float("nan"), 1e308, -1e308, 5e-324, -0.0, float(1 << 40)]
ODD_SHAPES = [[0, 1 << 62, 1 << 62], [1 << 40], [-1], [1] * 65, [1 << 20, 1 << 20], [2, 0, 3], []]


class WireFuzz:
    def __init__(self, rng: random.Random, catalogue: pb.ListOpsResponse) -> None:
        self.rng = rng
        self.ops = list(catalogue.ops)
        self.clean = False  # set per request: no mutations, one float shape, so graphs run deeper

    def odd(self, probability: float) -> bool:
        """Whether to mutate here (never in a clean request)."""
        return not self.clean and self.rng.random() < probability

    # ------------------------------------------------------------ values

    def shape(self) -> list[int]:
        if self.clean:
            return self.rng.choice([[2, 3], [2, 3], [3], []])
        if self.odd(0.05):
            return list(self.rng.choice(ODD_SHAPES))
        return [self.rng.randint(0, 4) for _ in range(self.rng.randint(0, 3))]

    def tensor(self, shape: list[int] | None = None, dtype: int | None = None) -> pb.Tensor:
        rng = self.rng
        if dtype is None:
            dtype = rng.choice([pb.DTYPE_FLOAT32, pb.DTYPE_FLOAT64]) if self.clean else rng.choice(list(DTYPES))
        shape = self.shape() if shape is None else shape
        size = math.prod(shape) if all(0 <= d < 64 for d in shape) and len(shape) <= 8 else 0
        array = np.random.default_rng(rng.getrandbits(32)).normal(size=size) * 3
        data = array.astype(DTYPES[dtype]).astype(np.dtype(DTYPES[dtype]).newbyteorder("<")).tobytes()
        message = pb.Tensor(dtype=dtype, shape=shape, data=data)
        roll = rng.random() if not self.clean else 1.0
        if roll < 0.04:
            message.data = data[:-1] if data else b"\x01"
        elif roll < 0.07:
            message.dtype = rng.choice([0, 7, 99, -1])
        elif roll < 0.09:
            message.data = bytes(rng.getrandbits(8) for _ in range(len(data)))
        return message

    def an_id(self, prefix: str) -> str:
        if self.odd(0.03):
            return self.rng.choice(ODD_IDS)
        return f"{prefix}{self.rng.randint(0, 10**6)}"

    def ref(self, ids: list[str]) -> str:
        roll = self.rng.random() if not self.clean else 1.0
        if roll < 0.03 or not ids:
            return self.rng.choice(ODD_IDS + ["unknown", "later"])
        if roll < 0.06:
            return f"{self.rng.choice(ids)}:{self.rng.choice([1, 2, 99])}"
        return self.rng.choice(ids)

    # ------------------------------------------------------------ attributes

    def attr(self, kind: str, ids: list[str]) -> pb.AttrValue | None:
        rng = self.rng
        kinds = kind.split("|")
        if self.odd(0.05):  # a value of the wrong kind
            kinds = ["integer", "real", "boolean", "text", "ints", "dtype", "index"]
        choice = rng.choice(kinds)
        if choice == "integer":
            return pb.AttrValue(integer=rng.choice(ODD_INTS) if self.odd(0.1) else rng.randint(-1, 1))
        if choice == "real":
            return pb.AttrValue(real=rng.choice(ODD_REALS) if self.odd(0.2) else rng.uniform(-3, 3))
        if choice == "boolean":
            return pb.AttrValue(boolean=rng.random() < 0.5)
        if choice == "text":
            return pb.AttrValue(text=rng.choice(["", "x", "both", "é" * 3]))
        if choice == "ints":
            if self.odd(0.1):
                return pb.AttrValue(ints=pb.Ints(values=rng.choice(ODD_SHAPES)))
            return pb.AttrValue(ints=pb.Ints(values=[rng.randint(-2, 4) for _ in range(rng.randint(0, 3))]))
        if choice == "dtype":
            return pb.AttrValue(dtype=rng.choice(list(DTYPES) + ([] if self.clean else [0, 99])))
        if choice == "index":
            return pb.AttrValue(index=self.index(ids))
        return None  # "none": leave it out

    def index(self, ids: list[str]) -> pb.Index:
        rng = self.rng
        result = pb.Index()
        for _ in range(rng.randint(0, 3)):
            roll = rng.random()
            if roll < 0.35:
                result.items.add(integer=rng.choice(ODD_INTS) if rng.random() < 0.1 else rng.randint(-3, 3))
            elif roll < 0.6:
                part = result.items.add().slice
                part.SetInParent()
                for name in ("start", "stop", "step"):
                    if rng.random() < 0.5:
                        setattr(part, name, rng.choice([-2, -1, 0, 1, 2, 3, 0 if name == "step" else 9]))
            elif roll < 0.7:
                result.items.add(new_axis=True)
            elif roll < 0.78:
                result.items.add(ellipsis=True)
            elif roll < 0.9:
                result.items.add(tensor=self.tensor([rng.randint(0, 3)], rng.choice([pb.DTYPE_INT64, pb.DTYPE_BOOL])))
            else:
                result.items.add(ref=self.ref(ids))
        return result

    # ------------------------------------------------------------ graphs

    def graph(self, known: list[str], leaves: int | None = None, nodes: int | None = None) -> pb.Graph:
        rng = self.rng
        graph = pb.Graph()
        ids = list(known)
        for _ in range(rng.randint(1, 3) if leaves is None else leaves):
            leaf = graph.leaves.add(id=self.an_id("l"), value=self.tensor())
            floating = leaf.value.dtype in (pb.DTYPE_FLOAT32, pb.DTYPE_FLOAT64, pb.DTYPE_FLOAT16)
            leaf.requires_grad = rng.random() < (0.5 if floating else 0.02)
            if self.odd(0.02):
                leaf.ClearField("value")
                if rng.random() < 0.5:
                    leaf.upload_id = self.an_id("u")
            ids.append(leaf.id)
        for _ in range(rng.randint(1, 5) if nodes is None else nodes):
            op = rng.choice(self.ops)
            node = graph.nodes.add(id=self.an_id("n"), op=op.name if not self.odd(0.02) else "no_such_op")
            node.no_grad = rng.random() < 0.15
            high = op.max_inputs if op.max_inputs >= 0 else 3
            count = rng.randint(op.min_inputs, max(op.min_inputs, high))
            if self.odd(0.03):
                count += rng.choice([-1, 1])
            for _ in range(max(0, count)):
                roll = rng.random()
                if roll < 0.75:
                    node.inputs.add(ref=self.ref(ids))
                elif roll < 0.85:
                    node.inputs.add(real=rng.choice(ODD_REALS) if self.odd(0.3) else rng.uniform(-2, 2))
                elif roll < 0.95:
                    node.inputs.add(integer=rng.choice(ODD_INTS) if self.odd(0.3) else rng.randint(-3, 3))
                else:
                    node.inputs.add(boolean=rng.random() < 0.5)
            for spec in op.attrs:
                if spec.required or rng.random() < 0.4:
                    value = self.attr(spec.kind, ids)
                    if value is not None:
                        node.attrs[spec.name].CopyFrom(value)
            if self.odd(0.02):
                node.attrs["no_such_attr"].CopyFrom(pb.AttrValue(integer=1))
            ids.append(node.id)
        return graph

    def returned(self, graph: pb.Graph, known: list[str]) -> list[str]:
        ids = [leaf.id for leaf in graph.leaves] + [node.id for node in graph.nodes] + known
        picks = self.rng.sample(ids, k=min(len(ids), self.rng.randint(0, 3)))
        if self.odd(0.05):
            picks.append(self.rng.choice(ODD_IDS + ["nope"]))
        return picks

    def roots(self, ids: list[str]) -> list[pb.Root]:
        roots = []
        for _ in range(self.rng.randint(1, 2)):
            root = pb.Root(id=self.ref(ids))
            if self.rng.random() < 0.4:
                root.gradient.CopyFrom(self.tensor())
            roots.append(root)
        return roots

    # ------------------------------------------------------------ requests

    def session_id(self, sessions: list[str]) -> str:
        roll = self.rng.random()
        if (roll < 0.05 and not self.clean) or not sessions:
            return self.rng.choice(["", "0" * 32, "f" * 31, "nothex" * 6, "A" * 32, "é"])
        return self.rng.choice(sessions)

    def request(self, sessions: list[str], known: list[str]) -> tuple[str, Any]:
        """One request: (method name, message); about a third are clean (valid up to the engine's rules)."""
        rng = self.rng
        self.clean = rng.random() < 0.35
        kind = rng.choices(
            ["Compute", "Extend", "Backward", "Grad", "UpdateGrads", "Read", "CreateSession", "Download",
             "Upload", "Close", "Corrupt"],
            weights=[30, 25, 8, 6, 5, 5, 4, 4, 5, 1, 7])[0]
        if kind == "Compute":
            graph = self.graph([])
            request = pb.ComputeRequest(graph=graph, return_values=self.returned(graph, []))
            if rng.random() < 0.2:
                request.roots.extend(self.roots([n.id for n in graph.nodes]))
            return kind, request
        if kind == "CreateSession":
            graph = self.graph([])
            return kind, pb.CreateSessionRequest(graph=graph, return_values=self.returned(graph, []),
                                                 ttl_seconds=rng.choice([0, 0, 1, 60, 2**32 - 1]))
        session_id = self.session_id(sessions)
        if kind == "Extend":
            graph = self.graph(known)
            release = rng.sample(known, k=1) if rng.random() < 0.05 else []
            return kind, pb.ExtendRequest(session_id=session_id, graph=graph, return_values=self.returned(graph, known),
                                          release=release)
        if kind == "Backward":
            request = pb.BackwardRequest(session_id=session_id, roots=self.roots(known),
                                         retain_graph=rng.random() < 0.7, create_graph=rng.random() < 0.1)
            if rng.random() < 0.3:
                request.inputs.append(self.ref(known))
            return kind, request
        if kind == "Grad":
            request = pb.GradRequest(session_id=session_id, outputs=self.roots(known), inputs=[self.ref(known)],
                                     retain_graph=rng.random() < 0.7, allow_unused=rng.random() < 0.5,
                                     is_grads_batched=rng.random() < 0.2, create_graph=rng.random() < 0.1)
            if rng.random() < 0.3:
                request.result_ids.append(self.an_id("g"))
            return kind, request
        if kind == "UpdateGrads":
            request = pb.UpdateGradsRequest(session_id=session_id)
            if rng.random() < 0.5:
                request.set.add(id=self.ref(known), tensor=self.tensor(rng.choice([[2, 3], [3], []]),
                                                                      rng.choice([pb.DTYPE_FLOAT32, pb.DTYPE_INT64])))
            if rng.random() < 0.5:
                request.zero.append(self.ref(known))
            if rng.random() < 0.3:
                request.clear.append(self.ref(known))
            return kind, request
        if kind == "Read":
            return kind, pb.ReadRequest(session_id=session_id, values=[self.ref(known)], grads=[self.ref(known)])
        if kind == "Download":
            return kind, pb.DownloadTensorRequest(session_id=session_id, id=self.ref(known), grad=rng.random() < 0.3,
                                                  chunk_bytes=rng.choice([0, 1, 7, 1 << 20, 2**32 - 1]))
        if kind == "Upload":
            return kind, self.upload()
        if kind == "Close":  # mostly sessions that are not there; sometimes a live one
            return kind, pb.CloseSessionRequest(session_id=session_id if rng.random() < 0.2 else "0" * 32)
        graph = self.graph([])
        data = bytearray(pb.ComputeRequest(graph=graph).SerializeToString())
        for _ in range(rng.randint(1, 4)):
            if data:
                data[rng.randrange(len(data))] = rng.getrandbits(8)
        if rng.random() < 0.3:
            data = bytearray(rng.getrandbits(8) for _ in range(rng.randint(1, 40)))
        return kind, bytes(data)

    def upload(self) -> list[pb.UploadTensorRequest]:
        rng = self.rng
        header = self.tensor()
        data, header.data = header.data, b""
        parts = [pb.UploadTensorRequest(header=header)]
        step = rng.choice([1, 3, 64, 4096])
        parts += [pb.UploadTensorRequest(chunk=data[k:k + step]) for k in range(0, len(data), step)]
        roll = rng.random()
        if roll < 0.1 and len(parts) > 1:
            parts.pop()
        elif roll < 0.2:
            parts.append(pb.UploadTensorRequest(chunk=b"\x00"))
        elif roll < 0.25:
            parts.append(pb.UploadTensorRequest(header=header))
        elif roll < 0.3:
            parts = parts[1:]
        return parts
