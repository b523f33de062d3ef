"""The contract between the REST channel (inside Rasa) and the action server for
delivering answers to a child. Standard library only: imported on both sides.

The action server serves `CLAIM_PATH` and `ACK_PATH` on loopback; a request must carry
`HEADER` with `token(secret)`, a keyed hash of MIJNSTEM_PSEUDONYM_SECRET, which both
processes have and a browser on the same machine does not.
"""

from __future__ import annotations

from bot.pseudonym import keyed_hash

HEADER = "X-MijnStem-Internal"
PENDING_PATH = "/mijnstem/deliveries/pending"
ACK_PATH = "/mijnstem/deliveries/ack"
# The Rasa-side route the Telegram bridge calls to get a chat's answers rendered.
DELIVER_PATH = "/webhooks/rest/deliver"
STATUSES = ("gelezen", "besproken", "mee_bezig", "gedaan", "kan_niet")
KINDS = ("wish", "message")


def token(secret: str) -> str:
    return keyed_hash(secret, "internal-api:deliveries")
