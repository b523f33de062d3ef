"""Privacy and bad input through the real stack (issue 4): encryption at rest, "vergeet
mij", `forget`, export, log hygiene, Rasa's closed API, hostile messages, floods and
invite-code guessing. Fast unit tests of the same parts live in tests/privacy/."""

from __future__ import annotations

import json
import re
import sqlite3
import threading
import urllib.error
import urllib.request
import uuid
from typing import Any

import pytest

from bot.domain import load_domain
from bot.privacy import tracker_db, tracker_events
from bot.pseudonym import sender_hash
from tests.e2e.conftest import texts
from tests.e2e.stack import Stack

pytestmark = pytest.mark.e2e

DOMAIN = load_domain()
# Every sentence planted by this module; none may show up in a log (last test).
PLANTED: list[str] = []


def variants(response: str) -> set[str]:
    return {v["text"] for v in DOMAIN["responses"][response]}


def plant(words: str) -> str:
    sentence = f"{words} {uuid.uuid4().hex[:10]}"
    PLANTED.append(sentence)
    return sentence


def new_child(stack: Stack, age: str = "12") -> tuple[int, str]:
    out = stack.cli("invite", "--age", age).stdout
    child_id = int(re.search(r"child (\d+)", out).group(1))
    return child_id, out.strip().splitlines()[-1]


def linked_chat(stack: Stack, prefix: str) -> tuple[int, str]:
    """A new child and a chat linked to it, at the wish question (Telegram: 16+)."""
    child_id, code = new_child(stack, "16" if prefix.startswith("tg-") else "12")
    sender = f"{prefix}-{uuid.uuid4().hex[:8]}"
    answer = stack.say(sender, f"/start {code}")
    assert any(m.get("buttons") for m in answer), answer
    return child_id, sender


def db_files(stack: Stack) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(stack.var_dir.iterdir())
            if p.is_file() and ".db" in p.name}


def found(stack: Stack, needle: str) -> list[str]:
    return [name for name, data in db_files(stack).items() if needle.encode() in data]


def app_rows(stack: Stack, sql: str, *params: Any) -> list[tuple]:
    with sqlite3.connect(stack.var_dir / "mijnstem.db", timeout=10) as conn:
        return conn.execute(sql, params).fetchall()


def tracker_rows(stack: Stack, sender: str) -> list[tuple]:
    key = sender_hash(stack.settings.pseudonym_secret, sender)
    with sqlite3.connect(stack.var_dir / "rasa-tracker.db", timeout=10) as conn:
        return conn.execute(
            "SELECT type_name, intent_name, action_name, data FROM events WHERE sender_id = ?",
            (key,),
        ).fetchall()


def tracker_events_of(stack: Stack, sender: str) -> list[dict]:
    codec = tracker_db.codec(stack.settings)
    with tracker_db.tracker_transaction(stack.settings) as conn:
        return [e for _, e in tracker_events.stored_events(
            conn, codec, [codec.sender_key(sender)])]


def token_tails(stack: Stack, child_id: int, sender: str) -> list[str]:
    wishes = app_rows(stack, "SELECT text FROM wish WHERE child_id = ?", child_id)
    events = tracker_rows(stack, sender)
    return [w[0][-40:] for w in wishes] + [e[3][-40:] for e in events]


def post_raw(stack: Stack, body: bytes) -> tuple[int, dict[str, str], Any]:
    request = urllib.request.Request(stack.webhook, data=body,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, dict(response.headers), json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), json.loads(exc.read() or b"null")


# --- encryption at rest ------------------------------------------------------------------

def test_a_planted_sentence_is_stored_but_never_in_clear(stack: Stack):
    child_id, sender = linked_chat(stack, "tg-e2e-plant")
    secret = plant("de kat van mijn buurvrouw heet Zwartje")
    answer = stack.say(sender, secret)
    assert any(t in variants("utter_wish_saved") for t in texts(answer)), answer

    assert found(stack, secret) == []
    assert found(stack, "Zwartje") == []
    assert found(stack, sender) == [], "the tracker keeps no conversation id"
    rows = tracker_rows(stack, sender)
    assert len(rows) > 5, "Rasa uses the encrypted store (not an in-memory fallback)"
    assert all(r[1] is None and r[2] is None and r[3].startswith("gAAAA") for r in rows)
    # It is there, for whoever holds the key: the export shows it.
    export = json.loads(stack.cli("export", str(child_id)).stdout)
    assert export["stored_data"]["wish"][-1]["text"] == secret
    said = [line.get("text") for chat in export["conversations"] for line in chat["events"]]
    assert secret in said


# --- vergeet mij -------------------------------------------------------------------------

def test_vergeet_mij_erases_the_childs_words_through_the_real_stack(stack: Stack):
    child_id, sender = linked_chat(stack, "tg-e2e-forget")
    secret = plant("ik wil een hamster die Pluisje heet")
    stack.say(sender, secret)
    tails = token_tails(stack, child_id, sender)
    assert len(tails) > 5

    question = stack.say(sender, "vergeet mij")
    assert texts(question)[-1] in variants("utter_ask_forget_me")
    assert [b["payload"] for b in question[-1]["buttons"]] == ["/affirm", "/deny"]
    done = stack.say(sender, "/affirm")
    assert texts(done)[-1] in variants("utter_forgotten"), done

    assert app_rows(stack, "SELECT count(*) FROM wish WHERE child_id = ?", child_id) == [(0,)]
    assert app_rows(stack, "SELECT count(*) FROM child WHERE id = ?", child_id) == [(1,)]
    left = tracker_events_of(stack, sender)
    assert [e for e in left if e["event"] == "user"] == []
    assert secret not in json.dumps(left)
    assert [t for t in tails if found(stack, t)] == []
    assert found(stack, secret) == []

    # The chat goes on, from a clean slate, and the erased events do not come back.
    again = stack.say(sender, "hoi")
    assert texts(again)
    assert secret not in json.dumps(tracker_events_of(stack, sender))


def test_no_to_the_question_keeps_everything(stack: Stack):
    child_id, sender = linked_chat(stack, "tg-e2e-keep")
    stack.say(sender, plant("ik wil vaker naar opa"))
    question = stack.say(sender, "/vergeet")
    assert texts(question)[-1] in variants("utter_ask_forget_me")
    kept = stack.say(sender, "nee")
    assert texts(kept)[0] in variants("utter_forget_kept"), kept
    assert app_rows(stack, "SELECT count(*) FROM wish WHERE child_id = ?", child_id) == [(1,)]
    assert any(e["event"] == "user" for e in tracker_events_of(stack, sender))


def test_forget_command_erases_a_child_completely(stack: Stack):
    child_id, sender = linked_chat(stack, "tg-e2e-cli")
    secret = plant("mijn broer heet Thijmen")
    stack.say(sender, secret)
    tails = token_tails(stack, child_id, sender)

    out = stack.cli("forget", str(child_id), "--yes").stdout
    assert f"child {child_id} erased" in out

    assert app_rows(stack, "SELECT count(*) FROM child WHERE id = ?", child_id) == [(0,)]
    assert app_rows(stack, "SELECT count(*) FROM wish WHERE child_id = ?", child_id) == [(0,)]
    assert tracker_rows(stack, sender) == []
    assert [t for t in tails if found(stack, t)] == []
    # The chat is no longer linked: the next message asks for a code, nothing returns.
    answer = stack.say(sender, "hoi")
    assert texts(answer)
    assert secret not in json.dumps(tracker_events_of(stack, sender))
    assert stack.cli("export", str(child_id), check=False).returncode == 2


# --- Rasa's doors ------------------------------------------------------------------------

def test_rasa_http_api_is_not_served(stack: Stack):
    base = stack.settings.rasa_url
    for method, path in (("GET", "/conversations/x/tracker"), ("GET", "/status"),
                         ("POST", "/model/parse"), ("GET", "/domain")):
        request = urllib.request.Request(base + path, method=method,
                                         data=b"{}" if method == "POST" else None)
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(request, timeout=10)
        assert err.value.code in (403, 404, 405), path


# --- bad input ---------------------------------------------------------------------------

HOSTILE = [
    "'; DROP TABLE wish; --",
    "Robert'); DELETE FROM child WHERE ('1'='1",
    "<script>alert('xss')</script><img src=x onerror=alert(1)>",
    "{{ 7*7 }} ${7*7} %s%s%n",
]


def test_hostile_messages_are_answered_and_stored_as_written(stack: Stack):
    child_id, sender = linked_chat(stack, "web-e2e-bad")
    bystander_id, bystander = linked_chat(stack, "web-e2e-bystander")
    stack.say(bystander, plant("ik wil een eigen kamer"))
    children = app_rows(stack, "SELECT count(*) FROM child")

    # The first is the answer to the wish question: stored verbatim, as a wish.
    answer = stack.say(sender, HOSTILE[0])
    assert any(t in variants("utter_wish_saved") for t in texts(answer)), answer
    for text in HOSTILE[1:]:
        assert texts(stack.say(sender, text)), text
    stack.say(sender, "nul\x00byte en \x1b[31mescape\u202e")
    status, _, answer = post_raw(
        stack, b'{"sender": "' + sender.encode() + b'", "message": "los \\ud800 surrogaat"}'
    )
    assert status == 200 and texts(answer)
    huge = "ik wil " + "heel graag " * 10_000  # about 110 KB
    answer = stack.say(sender, huge)
    assert texts(answer)[-1] in variants("utter_message_clipped"), texts(answer)

    wishes = json.loads(stack.cli("export", str(child_id)).stdout)["stored_data"]["wish"]
    assert wishes[0]["text"] == HOSTILE[0]
    # Every message reached the conversation as written, cleaned of control characters,
    # and the long one cut to 4000 characters.
    said = [e["text"] for e in tracker_events_of(stack, sender) if e["event"] == "user"]
    assert said[-(len(HOSTILE) + 3):] == [
        *HOSTILE, "nulbyte en [31mescape", "los \ufffd surrogaat", huge[:4000].strip()
    ]
    # Nothing else was touched.
    assert app_rows(stack, "SELECT count(*) FROM child") == children
    assert app_rows(stack, "SELECT count(*) FROM wish WHERE child_id = ?", bystander_id) == [(1,)]


# A long wish as a child might write it (the bot reads the first 4000 characters).
LONG_STORY = [
    "ik wil graag dat ik bij mijn pleeggezin mag blijven wonen want daar voel ik me thuis",
    "en ik wil graag een keer naar een pretpark met mijn pleegouders en mijn pleegzus",
    "op school wil ik op voetbal blijven met mijn vrienden uit de klas van meester Johan",
    "ik zou het fijn vinden als ik zelf mag kiezen wanneer ik naar het bezoek ga",
    "mijn broertje woont ergens anders en ik wil hem vaker bellen op zondag",
    "later wil ik dierenarts worden omdat ik heel goed met dieren kan omgaan",
    "ik wil een eigen kamer met een bureau zodat ik rustig mijn huiswerk kan maken",
    "en ik wil graag op zwemles want ik heb mijn diploma nog niet gehaald",
    "ik wil dat we in de zomer een keer samen op vakantie gaan naar de zee",
    "ik wil dat de mensen die over mij beslissen ook echt met mij praten",
]


def test_a_very_long_wish_is_cut_kept_and_the_child_told(stack: Stack):
    child_id, sender = linked_chat(stack, "tg-e2e-long")
    wish = " ".join(LONG_STORY * 140)  # about 110 KB; the first 4000 characters are read
    said = texts(stack.say(sender, wish))
    assert any(t in variants("utter_wish_saved") for t in said), said
    assert said[-1] in variants("utter_message_clipped")
    assert not set(said) & variants("utter_wish_too_long"), "it did not keep it all"
    wishes = json.loads(stack.cli("export", str(child_id)).stdout)["stored_data"]["wish"]
    assert wishes[0]["text"] == wish[:4000].strip()  # Rasa strips messages


def test_malformed_requests_are_refused_clearly_and_the_chat_goes_on(stack: Stack):
    _, sender = linked_chat(stack, "web-e2e-utf8")
    status, _, body = post_raw(
        stack, b'{"sender": "' + sender.encode() + b'", "message": "caf\xe9 \xff\xfe"}'
    )
    assert status == 400 and body["error"] == "invalid_utf8"
    for raw, error in ((b"not json", "invalid_json"), (b"[1, 2]", "invalid_json"),
                       (b'{"sender": 5, "message": "x"}', "invalid_sender"),
                       (b'{"sender": "a", "message": null}', "invalid_message")):
        status, _, body = post_raw(stack, raw)
        assert (status, body["error"]) == (400, error)
    answer = stack.say(sender, "ik wil een hond")
    assert any(t in variants("utter_wish_saved") for t in texts(answer))


def test_a_flood_from_one_chat_is_refused_kindly_and_nothing_else_is_lost(stack: Stack):
    _, sender = linked_chat(stack, "tg-e2e-flood")
    _, calm = linked_chat(stack, "tg-e2e-calm")
    user_events_before = len([e for e in tracker_events_of(stack, sender) if e["event"] == "user"])
    results: list[tuple[int, dict[str, str], Any]] = []
    lock = threading.Lock()

    def send(n: int) -> None:
        body = json.dumps({"sender": sender, "message": f"wens nummer {n}"}).encode()
        result = post_raw(stack, body)
        with lock:
            results.append(result)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(24)]
    for thread in threads:
        thread.start()
    calm_answer = stack.say(calm, "ik wil een trampoline")
    for thread in threads:
        thread.join(timeout=120)

    refused = [r for r in results if r[1].get("X-MijnStem-Refused") == "rate-limit"]
    handled = [r for r in results if r not in refused]
    assert len(results) == 24 and all(r[0] == 200 for r in results)
    assert refused and handled
    assert all(texts(r[2])[0] in variants("utter_slow_down") for r in refused)
    assert all(int(r[1]["Retry-After"]) >= 1 for r in refused)
    assert any(t in variants("utter_wish_saved") for t in texts(calm_answer))
    # Every message that was not refused was handled and kept.
    user_events = [e for e in tracker_events_of(stack, sender) if e["event"] == "user"]
    assert len(user_events) - user_events_before == len(handled)
    # And the chat works again once the flood is over.
    assert texts(stack.say(sender, "/affirm"))


def test_invite_codes_cannot_be_guessed_from_one_chat(stack: Stack):
    _, code = new_child(stack)
    guesser = f"web-e2e-guess-{uuid.uuid4().hex[:8]}"
    for _ in range(stack.settings.link_failures_per_chat):
        answer = stack.say(guesser, "/start ZZZZ-9999")
        assert texts(answer)[0] in variants("utter_invite_unknown")
    refused = stack.say(guesser, f"/start {code}")
    assert texts(refused)[0] in variants("utter_invite_too_many_tries")
    linked = stack.say(f"web-e2e-child-{uuid.uuid4().hex[:8]}", f"/start {code}")
    assert any(m.get("buttons") for m in linked), "another chat links with the right code"


# --- logs --------------------------------------------------------------------------------

def test_logs_carry_no_message_text(stack: Stack):
    assert PLANTED, "run with the tests above"
    logs = {log.name: log.read_text(errors="replace") for log in stack.logs}
    assert {"rasa.log", "action-server.log"} <= set(logs)
    assert "Starting Rasa server" in logs["rasa.log"], "the log we search is Rasa's"
    for sentence in PLANTED:
        assert [name for name, text in logs.items() if sentence in text] == []
    for text in logs.values():
        assert "ZZZZ-9999" not in text and "ZZZZ9999" not in text
        assert "DROP TABLE" not in text and "heel graag heel graag" not in text
