from __future__ import annotations

import re

from bot import invites
from bot.chat_commands import parse_command


def test_codes_are_unambiguous_and_typeable():
    codes = {invites.new_code() for _ in range(500)}
    assert len(codes) == 500
    for code in codes:
        assert re.fullmatch(r"[2-9A-Z]{4}-[2-9A-Z]{4}", code)
        assert not set(code) & set("01OIL")
        assert invites.looks_like_code(code)


def test_normalise_accepts_how_children_type_it():
    assert invites.normalise(" k7mp q2xr ") == invites.normalise("K7MP-Q2XR") == "K7MPQ2XR"
    assert invites.code_hash("s", "k7mp-q2xr") == invites.code_hash("s", "K7MPQ2XR")
    assert invites.code_hash("s", "K7MP-Q2XR") != invites.code_hash("other", "K7MP-Q2XR")


def test_start_commands_and_bare_codes():
    assert parse_command("/start K7MP-Q2XR") == ("link_chat", "K7MPQ2XR")
    assert parse_command("/start@MijnStemBot k7mpq2xr") == ("link_chat", "K7MPQ2XR")
    assert parse_command("/start") == ("link_chat", None)
    assert parse_command("mijn code is k7mp-q2xr") == ("link_chat", "K7MPQ2XR")
    assert parse_command("K7MP-Q2XR") == ("link_chat", "K7MPQ2XR")
    assert parse_command("/stop") == ("stop", None)
    assert parse_command("/privacy") == ("ask_privacy", None)
    # Words that merely look code-shaped are not codes.
    assert parse_command("voetballen") is None
    assert parse_command("ik wil naar huis") is None
    assert parse_command("/onbekend") is None
