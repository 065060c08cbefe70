"""The session store on its own: ids, caps, idle expiry (with a controllable clock), NOT_FOUND."""

from __future__ import annotations

import grpc
import pytest

from gradwire.server.budget import RetainedBytes
from gradwire.server.errors import RequestError
from gradwire.server.sessions import SESSION_ID_PATTERN, SessionStore


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _store(max_sessions: int = 4, ttl: float = 60.0) -> tuple[SessionStore, Clock]:
    clock = Clock()
    return SessionStore(ttl, max_sessions, RetainedBytes(1 << 20), clock=clock), clock


def _code(call) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(RequestError) as caught:
        call()
    return caught.value.code, caught.value.message


def test_server_chosen_ids_are_128_random_bits():
    store, _ = _store(max_sessions=100)
    ids = {store.add("", {}, 0).session_id for _ in range(50)}
    assert len(ids) == 50 and all(SESSION_ID_PATTERN.fullmatch(i) for i in ids)


def test_client_chosen_id_is_validated_and_unique():
    store, _ = _store()
    chosen = "0123456789abcdef" * 2
    assert store.add(chosen, {}, 0).session_id == chosen
    assert _code(lambda: store.add(chosen, {}, 0))[0] == grpc.StatusCode.ALREADY_EXISTS
    for bad in ("ABCDEF0123456789" * 2, "abc", "g" * 32):
        assert _code(lambda: store.check_new(bad))[0] == grpc.StatusCode.INVALID_ARGUMENT


def test_count_cap_refuses_new_sessions_and_keeps_live_ones():
    store, _ = _store(max_sessions=2)
    first, second = store.add("", {}, 0), store.add("", {}, 0)
    code, message = _code(lambda: store.add("", {}, 0))
    assert code == grpc.StatusCode.RESOURCE_EXHAUSTED and "2 sessions" in message
    for session in (first, second):
        with store.use(session.session_id) as used:
            assert used is session
    store.close(first.session_id)
    store.add("", {}, 0)


def test_idle_sessions_expire_and_say_so():
    store, clock = _store(ttl=60)
    session = store.add("", {}, 0)
    clock.now += 59
    with store.use(session.session_id):
        pass  # using it resets the idle time
    clock.now += 59
    assert store.expire() == 0
    clock.now += 2
    assert store.expire() == 1
    code, message = _code(lambda: store.use(session.session_id).__enter__())
    assert code == grpc.StatusCode.NOT_FOUND
    assert session.session_id in message and "expired after 60 s idle" in message


def test_lookup_expires_lazily_too():
    store, clock = _store(ttl=10)
    session = store.add("", {}, ttl_seconds=30)  # a per-session TTL beats the default
    clock.now += 20
    with store.use(session.session_id):
        pass
    clock.now += 31
    assert _code(lambda: store.use(session.session_id).__enter__())[0] == grpc.StatusCode.NOT_FOUND
    assert len(store) == 0


def test_unknown_and_closed_sessions_are_not_found():
    store, _ = _store()
    assert _code(lambda: store.use("f" * 32).__enter__())[0] == grpc.StatusCode.NOT_FOUND
    session = store.add("", {}, 0)
    store.close(session.session_id)
    assert _code(lambda: store.close(session.session_id))[0] == grpc.StatusCode.NOT_FOUND
