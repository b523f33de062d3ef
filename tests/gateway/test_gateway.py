"""The one gateway to Rasa against a loopback stand-in for Rasa's REST channel and the
action server's /health (tests/web/fake_rasa.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from bot.gateway import BotMessage, Button, RasaGateway, RasaRejected, RasaUnavailable, parse_reply
from tests.web.fake_rasa import FakeRasa


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def rasa() -> Iterator[FakeRasa]:
    fake = FakeRasa()
    yield fake
    fake.stop()


@pytest.fixture
async def gateway(rasa: FakeRasa) -> AsyncIterator[RasaGateway]:
    gw = RasaGateway(f"{rasa.url}/webhooks/rest/webhook", f"{rasa.url}/health", health_ttl=0)
    yield gw
    await gw.close()


async def test_health_is_asked_once_while_all_goes_well(gateway, rasa):  # type: ignore[no-untyped-def]
    for n in range(10):
        answers = await gateway.send("web-a", f"bericht {n}")
        assert answers == [BotMessage(f"Je zei: bericht {n}")]
    assert gateway.health.checks == 1
    assert rasa.messages == [f"bericht {n}" for n in range(10)]


async def test_after_a_failure_every_message_checks_until_the_actions_are_back(
    gateway, rasa  # type: ignore[no-untyped-def]
):
    await gateway.send("web-a", "een")
    rasa.fail_with = 500
    with pytest.raises(RasaRejected):
        await gateway.send("web-a", "twee")
    rasa.fail_with = None
    rasa.actions_up = False
    for _ in range(3):
        with pytest.raises(RasaUnavailable):
            await gateway.send("web-a", "drie")
    # Rasa never got the message while the action server was down.
    assert rasa.messages == ["een"]
    assert gateway.health.checks == 1 + 3
    rasa.actions_up = True
    assert await gateway.send("web-a", "drie") == [BotMessage("Je zei: drie")]
    await gateway.send("web-a", "vier")
    assert gateway.health.checks == 1 + 3 + 1


async def test_rasa_gone_is_unavailable_and_an_empty_answer_is_rejected(gateway, rasa):  # type: ignore[no-untyped-def]
    rasa.reply = lambda sender, message: []
    with pytest.raises(RasaRejected):
        await gateway.send("tg-a", "hoi")
    rasa.stop()
    with pytest.raises(RasaUnavailable):
        await gateway.send("tg-a", "hoi")


async def test_a_good_health_answer_is_trusted_for_its_ttl(rasa):  # type: ignore[no-untyped-def]
    clock = Clock()
    gw = RasaGateway(f"{rasa.url}/webhooks/rest/webhook", f"{rasa.url}/health", health_ttl=2.0)
    gw.health.clock = clock
    try:
        await gw.send("web-a", "een")
        clock.now += 1.9
        await gw.send("web-a", "twee")
        assert gw.health.checks == 1
        clock.now += 0.2
        await gw.send("web-a", "drie")
        assert gw.health.checks == 2
    finally:
        await gw.close()


def test_one_message_type_for_every_channel():
    assert parse_reply([
        {"recipient_id": "x", "text": "Kies", "buttons": [
            {"title": "Ja", "payload": "/affirm"}, {"title": "zonder payload"}, "rubbish"]},
        {"image": "https://example.org/a.png"},
        {"text": "  "},
    ]) == [BotMessage("Kies", (Button("Ja", "/affirm"),)),
           BotMessage("", image="https://example.org/a.png")]
    assert parse_reply({"error": "x"}) is None
