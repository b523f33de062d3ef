"""A restart of the whole stack does not lose a child's place in the conversation."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.conftest import texts
from tests.e2e.stack import start_stack

pytestmark = pytest.mark.e2e


def test_place_in_the_conversation_survives_a_restart(tmp_path: Path):
    var_dir = tmp_path / "var"
    first = start_stack(var_dir)
    try:
        code = first.invite("--age", "12")
        first.say("rest-restart", f"/start {code}")
        assert any("nog" in t.lower() for t in texts(first.say("rest-restart", "ik wil op judo")))
        asked = texts(first.say("rest-restart", "ja"))
        assert any("wens" in t.lower() for t in asked), asked
    finally:
        first.stop()
    env_ports = {k: first.env[k] for k in ("RASA_PORT", "ACTION_PORT", "WEB_PORT")}
    second = start_stack(var_dir, extra_env=env_ports)
    try:
        back = texts(second.say("rest-restart", "hoi"))
        assert any("verder" in t for t in back), back
        # The next answer still lands in the wishes form: stored as the second wish.
        assert texts(second.say("rest-restart", "ik wil op turnen"))
        from sqlalchemy import select

        from bot.storage.db import make_engine, make_session_factory
        from bot.storage.models import Wish

        with make_session_factory(make_engine(second.settings)).begin() as session:
            assert [w.text for w in session.scalars(select(Wish).order_by(Wish.id))] == [
                "ik wil op judo", "ik wil op turnen",
            ]
    finally:
        second.stop()
