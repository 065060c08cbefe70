"""The GradwireService servicer: each method decodes, calls the module that does the work, encodes.

Graphs are built by `graph`, backward and grad run by `gradients`, sessions kept by `sessions`, uploads by
`uploads`, responses packed by `responses`; per-request budgets and deadlines are `limits`, stream caps
`streams`, the caller's identity `callers`; failures become status codes in `errors`.
"""

from __future__ import annotations

import logging
from typing import Any, Iterator, Sequence

import grpc

import gradwire.engine as ge
from gradwire.v1 import gradwire_pb2 as pb
from gradwire.v1 import gradwire_pb2_grpc as pb_grpc

from . import codec, gradients, graph, responses
from .callers import caller_of
from .config import MiB, ServerConfig
from .echo import shown
from .errors import invalid, rpc_errors, rpc_stream_errors
from .limits import metered
from .prepared import PreparedStore, compile_prepared
from .raw_chunks import chunk_messages
from .spliced import Spliced
from .runner import GraphRunner
from .principal import principal_of
from .sessions import Session, SessionStore
from .streams import StreamGate
from .uploads import UploadStore
from .version import CONTRACT_VERSION, server_version

log = logging.getLogger("gradwire.server")

SESSION_ID_METADATA = "gradwire-session-id"
# A session call's tensors above this many bytes come back deferred (DownloadTensor streams them).
INLINE_BYTES_METADATA = "gradwire-inline-bytes"
DEFAULT_CHUNK_BYTES = 4 * MiB
# Smaller download chunks are raised to this: one message per byte would hold a worker for ever.
MIN_CHUNK_BYTES = 64 << 10


def session_id_of(request: Any, context: grpc.ServicerContext) -> str:
    """The session id of a call: the request field, else the gradwire-session-id metadata."""
    from_metadata = next((value for key, value in context.invocation_metadata() or ()
                          if key == SESSION_ID_METADATA), "")
    if request.session_id and from_metadata and request.session_id != from_metadata:
        raise invalid(f"session id {shown(request.session_id)} in the request differs from {shown(from_metadata)} "
                      f"in the {SESSION_ID_METADATA} metadata")
    return request.session_id or from_metadata


def inline_bytes_of(context: grpc.ServicerContext) -> int | None:
    """The gradwire-inline-bytes metadata of a call (a byte count), or None when not sent."""
    text = next((value for key, value in context.invocation_metadata() or () if key == INLINE_BYTES_METADATA), None)
    if text is None:
        return None
    if not text.isdigit() or len(text) > 19:
        raise invalid(f"{INLINE_BYTES_METADATA} metadata must be a number of bytes, not {shown(text)}")
    return int(text)


def _chunk_size(part: pb.UploadTensorRequest) -> int:
    """Bytes an upload message moves (a header counts as a full step of progress)."""
    return len(part.chunk) if part.WhichOneof("part") == "chunk" else 1 << 30


def op_info(op: Any) -> pb.OpInfo:
    return pb.OpInfo(
        name=op.name, min_inputs=op.min_inputs, max_inputs=op.max_inputs,
        attrs=[pb.AttrInfo(name=spec.name, kind=spec.kind, required=spec.required,
                           default="" if spec.required else repr(spec.default), aliases=spec.aliases,
                           description=spec.description)
               for spec in op.attrs],
        differentiable=op.differentiable, outputs=op.num_outputs, inplace=op.inplace, summary=op.summary,
        methods=op.methods, functions=op.functions, operators=op.operators,
        reflected_operators=op.reflected_operators,
        grad_fn=op.grad_fn if isinstance(op.grad_fn, str) else "", view=op.view,
        internal=op.internal, output_names=op.output_names, signature=op.signature,
        rules_id=op.rules_id,
    )


class GradwireServicer(pb_grpc.GradwireServiceServicer):
    def __init__(self, config: ServerConfig, sessions: SessionStore, uploads: UploadStore,
                 streams: StreamGate | None = None, features: Sequence[str] = ()) -> None:
        self.config = config
        self.sessions = sessions
        self.uploads = uploads
        self.streams = streams or StreamGate(config.max_streams, config.max_streams_per_caller,
                                             config.stream_idle_seconds)
        self.runner = GraphRunner(config, uploads)
        self.prepared = PreparedStore(config.session_ttl, config.max_session_ttl, config.max_prepared_graphs,
                                      sessions.retained)
        self.features = list(features)
        self._catalogue = pb.ListOpsResponse(ops=[op_info(op) for op in ge.registry.OPS.values()])

    # ------------------------------------------------------------ helpers

    def _build(self, request_graph: pb.Graph, scope: graph.Scope, context: grpc.ServicerContext, *,
               session: bool, roots: Sequence[pb.Root] = (), held: Session | None = None) -> graph.Built:
        """Runs a graph (and a one-shot backward from roots) within one request's limits (runner.py);
        a session held by the call is kept alive while the call makes progress."""
        return self.runner.build(request_graph, scope, context, session=session, roots=roots,
                                 uploads=self.uploads.owned_by(principal_of(context)),
                                 on_progress=self._progress(held))

    def _build_either(self, request: Any, scope: graph.Scope, context: grpc.ServicerContext, *, session: bool,
                      roots: Sequence[pb.Root] = ()) -> tuple[Sequence[str], graph.Built]:
        """Runs the request's graph, or its prepared graph (graph_id + inputs); returns its leaf ids too."""
        if not request.graph_id:
            if request.inputs:
                raise invalid("inputs are the values of a prepared graph's input leaves: give graph_id too")
            built = self._build(request.graph, scope, context, session=session, roots=roots)
            return [leaf.id for leaf in request.graph.leaves], built
        if request.graph.leaves or request.graph.nodes:
            raise invalid("give either a graph or the graph_id of a prepared graph, not both")
        prepared = self.prepared.get(request.graph_id, principal_of(context))
        bound = prepared.bind(request.inputs, self.uploads.owned_by(principal_of(context)))
        built = self.runner.run_plan(prepared.plan, bound, scope, context, session=session, roots=roots)
        return prepared.plan.leaf_ids, built

    def _progress(self, session: Session | None):
        return None if session is None else (lambda: self.sessions.touch(session))

    def _packer(self, context: grpc.ServicerContext, *, can_defer: bool = True) -> responses.TensorPacker:
        return responses.TensorPacker(self.config.max_message_bytes, can_defer=can_defer,
                                      inline_bytes=inline_bytes_of(context) if can_defer else None)

    @staticmethod
    def _spliced_values(into: Spliced, field: str, ids: Sequence[str], scope: graph.Scope, *, grads: bool) -> None:
        for value_id in ids:
            value = scope.resolve(value_id, "return_grads" if grads else "return_values")
            into.add(field, value_id, value.grad if grads else value)

    @staticmethod
    def _values(into: Any, ids: Sequence[str], scope: graph.Scope, packer: responses.TensorPacker) -> None:
        for value_id in ids:
            packer.pack(into, value_id, scope.resolve(value_id, "return_values"))

    # ------------------------------------------------------------ one-shot

    @rpc_errors
    def Compute(self, request: pb.ComputeRequest, context: grpc.ServicerContext) -> pb.ComputeResponse:
        scope = graph.Scope({})
        leaf_ids, built = self._build_either(request, scope, context, session=False, roots=request.roots)
        grad_ids = list(request.return_grads) or [leaf_id for leaf_id in leaf_ids if scope.value(leaf_id).requires_grad]
        response = pb.ComputeResponse()
        responses.add_infos(response.info, scope.new.items())
        spliced = Spliced(response, self._packer(context, can_defer=False))
        self._spliced_values(spliced, "values", request.return_values, scope, grads=False)
        self._spliced_values(spliced, "grads", grad_ids, scope, grads=True)
        result = spliced.result()
        self.uploads.consume(built.upload_ids)
        return result

    # ------------------------------------------------------------ sessions

    @rpc_errors
    def CreateSession(self, request: pb.CreateSessionRequest, context: grpc.ServicerContext) -> pb.CreateSessionResponse:
        session_id = session_id_of(request, context)
        caller = caller_of(context)
        self.sessions.check_new(session_id, caller, principal_of(context))
        scope = graph.Scope({})
        _, built = self._build_either(request, scope, context, session=True)
        response = pb.CreateSessionResponse()
        responses.add_infos(response.info, scope.new.items())
        self._values(response.values, request.return_values, scope, self._packer(context))
        with self.uploads.transfer(built.upload_ids) as reserved:
            session = self.sessions.add(session_id, scope.new, request.ttl_seconds, already_reserved=reserved,
                                        caller=caller, owner=principal_of(context))
        context.send_initial_metadata(((SESSION_ID_METADATA, session.session_id),))
        log.debug("session %s created with %d values", session.session_id, len(scope.new))
        response.session_id = session.session_id
        return response

    @rpc_errors
    def Extend(self, request: pb.ExtendRequest, context: grpc.ServicerContext) -> pb.ExtendResponse:
        with self.sessions.use(session_id_of(request, context), principal_of(context)) as session:
            scope = graph.Scope(session.values)
            built = self._build(request.graph, scope, context, session=True, held=session)
            try:  # a refusal from here on undoes the request's in-place writes
                response = pb.ExtendResponse()
                self._values(response.values, request.return_values, scope, self._packer(context))
                with self.uploads.transfer(built.upload_ids) as reserved:
                    self.sessions.commit(session, scope.new, release=request.release, refuse_over_cap=True,
                                         already_reserved=reserved)
            except BaseException:
                built.undo.restore()
                raise
            changed = [(value_id, scope.value(value_id)) for value_id in built.new_ids + built.changed_ids]
            responses.add_infos(response.info, changed)
            return response

    @rpc_errors
    def Backward(self, request: pb.BackwardRequest, context: grpc.ServicerContext) -> pb.BackwardResponse:
        with self.sessions.use(session_id_of(request, context), principal_of(context)) as session:
            scope = graph.Scope(session.values)
            for value_id in request.return_grads:
                scope.resolve(value_id, "return_grads")
            retain_graph = request.retain_graph if request.HasField("retain_graph") else None
            with metered(self.config, context, on_progress=self._progress(session)):
                gradients.backward(scope, request.roots, retain_graph=retain_graph,
                                   create_graph=request.create_graph, inputs=request.inputs)
            self.sessions.resize(session, session.values.values(), refuse_over_cap=False)
            grad_ids = list(request.return_grads) or gradients.leaves_with_grad(scope, request.inputs)
            spliced = Spliced(pb.BackwardResponse(), self._packer(context))
            self._spliced_values(spliced, "grads", grad_ids, scope, grads=True)
            return spliced.result()

    @rpc_errors
    def Grad(self, request: pb.GradRequest, context: grpc.ServicerContext) -> pb.GradResponse:
        with self.sessions.use(session_id_of(request, context), principal_of(context)) as session:
            scope = graph.Scope(session.values)
            with metered(self.config, context, on_progress=self._progress(session)):
                results = gradients.grad(scope, request)
            response = pb.GradResponse()
            packer = self._packer(context)
            for value_id, result in zip(request.inputs, results):
                packer.pack(response.grads, value_id, result)
            joined = {value_id: result for value_id, result in zip(request.result_ids, results) if result is not None}
            if joined:
                self.sessions.commit(session, joined, refuse_over_cap=False)
                responses.add_infos(response.info, joined.items())
            return response

    @rpc_errors
    def Read(self, request: pb.ReadRequest, context: grpc.ServicerContext) -> pb.ReadResponse:
        with self.sessions.use(session_id_of(request, context), principal_of(context)) as session:
            scope = graph.Scope(session.values)
            spliced = Spliced(pb.ReadResponse(), self._packer(context))
            self._spliced_values(spliced, "values", request.values, scope, grads=False)
            self._spliced_values(spliced, "grads", request.grads, scope, grads=True)
            return spliced.result()

    @rpc_errors
    def UpdateGrads(self, request: pb.UpdateGradsRequest, context: grpc.ServicerContext) -> pb.UpdateGradsResponse:
        with self.sessions.use(session_id_of(request, context), principal_of(context)) as session:
            gradients.update_grads(graph.Scope(session.values), request)
            self.sessions.resize(session, session.values.values(), refuse_over_cap=False)
            return pb.UpdateGradsResponse()

    @rpc_errors
    def CloseSession(self, request: pb.CloseSessionRequest, context: grpc.ServicerContext) -> pb.CloseSessionResponse:
        self.sessions.close(session_id_of(request, context), principal_of(context))
        return pb.CloseSessionResponse()

    # ------------------------------------------------------------ prepared graphs

    @rpc_errors
    def PrepareGraph(self, request: pb.PrepareGraphRequest, context: grpc.ServicerContext) -> pb.PrepareGraphResponse:
        plan, fixed, inputs, upload_ids = compile_prepared(request, self.uploads.owned_by(principal_of(context)))
        with self.uploads.transfer(upload_ids) as reserved:
            prepared = self.prepared.add(principal_of(context), plan, fixed, inputs, request.ttl_seconds,
                                         already_reserved=reserved)
        return pb.PrepareGraphResponse(graph_id=prepared.graph_id, ttl_seconds=int(prepared.ttl))

    @rpc_errors
    def ReleaseGraph(self, request: pb.ReleaseGraphRequest, context: grpc.ServicerContext) -> pb.ReleaseGraphResponse:
        self.prepared.release(request.graph_id, principal_of(context))
        return pb.ReleaseGraphResponse()

    # ------------------------------------------------------------ catalogue and streaming

    @rpc_errors
    def GetServerInfo(self, request: pb.GetServerInfoRequest, context: grpc.ServicerContext) -> pb.GetServerInfoResponse:
        config = self.config
        limits = pb.ServerLimits(
            max_message_bytes=config.max_message_bytes, max_request_bytes=config.max_request_bytes,
            max_session_bytes=config.max_session_bytes, max_sessions=config.max_sessions,
            session_ttl_seconds=config.session_ttl, max_sessions_per_principal=config.max_sessions_per_principal,
            max_bytes_per_principal=config.max_bytes_per_principal,
        )
        return pb.GetServerInfoResponse(
            name="gradwire", server_version=server_version(), contract_version=CONTRACT_VERSION, limits=limits,
            features=self.features, principal=principal_of(context), op_count=len(self._catalogue.ops),
        )

    @rpc_errors
    def ListOps(self, request: pb.ListOpsRequest, context: grpc.ServicerContext) -> pb.ListOpsResponse:
        return self._catalogue

    @rpc_errors
    def UploadTensor(self, request_iterator: Iterator[pb.UploadTensorRequest],
                     context: grpc.ServicerContext) -> pb.UploadTensorResponse:
        with self.streams.open(context, caller_of(context), "an UploadTensor stream") as stream:
            upload = self.uploads.receive(stream.watch(request_iterator, size=_chunk_size), principal_of(context))
        return pb.UploadTensorResponse(upload_id=upload.upload_id, received_bytes=upload.nbytes)

    @rpc_stream_errors
    def DownloadTensor(self, request: pb.DownloadTensorRequest,
                       context: grpc.ServicerContext) -> Iterator[pb.DownloadTensorResponse]:
        limit = self.config.max_message_bytes
        chunk_bytes = min(max(request.chunk_bytes or DEFAULT_CHUNK_BYTES, MIN_CHUNK_BYTES),
                          max(limit - responses.ENVELOPE_BYTES, limit // 2))  # a chunk plus its envelope fits
        # The session stays locked while streaming, so no call can change the tensor half-way; a client
        # that stops reading is ended after the stream idle time (streams.py), which frees the lock.
        with self.streams.open(context, caller_of(context), "a DownloadTensor stream") as stream, \
                self.sessions.use(session_id_of(request, context), principal_of(context)) as session:
            tensor = graph.Scope(session.values).resolve(request.id, "download")
            if request.grad:
                tensor = tensor.grad
                if tensor is None:
                    raise invalid(f"{request.id!r} has no grad (None)", node_id=request.id)
            array = tensor.detach().numpy()
            yield pb.DownloadTensorResponse(header=codec.encode(array, with_data=False))
            stream.touch()
            for message in chunk_messages(array, chunk_bytes):  # serialized straight from the array
                yield message  # type: ignore[misc]
                stream.touch()
                self.sessions.touch(session)

