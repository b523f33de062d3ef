"""The encrypted tracker store, run inside Rasa's own environment (.venv-rasa)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from bot.model import rasa_env
from bot.pseudonym import sender_hash
from bot.settings import PROJECT_ROOT, Settings

PYTHON = PROJECT_ROOT / ".venv-rasa" / "bin" / "python"


def test_encrypted_tracker_store_inside_rasa(settings: Settings, tmp_path: Path):
    secret = "mijn hamster heet Pluisje"
    db = tmp_path / "tracker.db"
    env = {
        **rasa_env(),
        "MIJNSTEM_ENCRYPTION_KEYS": ",".join(settings.encryption_keys),
        "MIJNSTEM_PSEUDONYM_SECRET": settings.pseudonym_secret,
    }
    env.pop("MIJNSTEM_VAR_DIR", None)
    run = subprocess.run(
        [str(PYTHON), str(Path(__file__).with_name("rasa_store_probe.py")), str(db), secret],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    line = next((ln for ln in run.stdout.splitlines() if ln.startswith("PROBE ")), None)
    assert line, run.stdout[-2000:] + run.stderr[-4000:]
    out = json.loads(line.removeprefix("PROBE "))

    assert out["roundtrip_text"] == secret and out["roundtrip_slot"] == secret
    # After the erasure only the reply written after it was stored, even after two saves.
    assert out["after_erasure"] == ["bot"] and not out["after_erasure_has_secret"]
    assert out["next_turn"] == ["bot", "user"]
    key = sender_hash(settings.pseudonym_secret, "tg-probe")
    assert {tuple(r) for r in out["rows"]} == {(key, None, None, "gAAAA")}
    assert secret.encode() not in db.read_bytes()
    assert out["secure_delete"] == 1
    assert out["keys"] == "refused"
    assert out["without_keys"] == "refused" and out["wrong_keys"] == "refused"
    assert out["clear_events"] is True


def test_a_turn_decrypts_only_what_is_new(settings: Settings, tmp_path: Path):
    """The tracker store caches decrypted events per conversation, and the tracker it
    saved last, and both stay right when another process writes or erases, when a turn
    fails before saving and over sessions (rasa_cache_probe.py)."""
    env = {
        **rasa_env(),
        "MIJNSTEM_ENCRYPTION_KEYS": ",".join(settings.encryption_keys),
        "MIJNSTEM_PSEUDONYM_SECRET": settings.pseudonym_secret,
    }
    env.pop("MIJNSTEM_VAR_DIR", None)
    run = subprocess.run(
        [str(PYTHON), str(Path(__file__).with_name("rasa_cache_probe.py")),
         str(tmp_path / "tracker.db")],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    line = next((ln for ln in run.stdout.splitlines() if ln.startswith("PROBE ")), None)
    assert line, run.stdout[-2000:] + run.stderr[-4000:]
    out = json.loads(line.removeprefix("PROBE "))
    # Its own events are kept in clear as written: nothing it wrote is decrypted again,
    # and after each save the saved tracker itself is handed back.
    assert out["turns_decoded"] == 0 and out["events"] == 60
    assert out["served"] == 20 and out["same_object"]
    assert out["unchanged_decoded"] == 0 and out["rebuilt_equal"]
    assert out["unsaved_served"] is False
    assert out["sees_other"] == "van de ander" and out["other_decoded"] == 1
    assert out["session_events"][0] == out["session_events"][1] and out["all_sessions"]
    assert out["rows_match"][0] == out["rows_match"][1] > 60
    assert out["kept_again"]
    assert out["twice_rows"][0] == out["twice_rows"][1]
    assert out["twice_rows"][2] == ["derde sessie", "welkom terug"]
    assert out["after_erasure"] is True and out["after_new_turn"] == ["opnieuw"]
    # A new conversation (and one erased before), created as Rasa's agent creates it,
    # and its second turn from a rebuilt tracker: nothing stored before the turn's
    # save, no count of stored rows, every event stored once.
    assert out["first_messages"] == [
        [4, 4, ["/start", "welkom"], True, 5, 4, ["/start", "welkom", "hoi"], 0]] * 2
    assert out["counted"] == []
