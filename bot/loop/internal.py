"""The contract between the REST channel (inside Rasa) and the action server for
delivering answers to a child. Standard library only: imported on both sides.

The action server serves PENDING_PATH and ACK_PATH on loopback; like every request to
it, they must carry HEADER with MIJNSTEM_ACTION_SECRET (the header Rasa's action
endpoint sends, endpoints.yml; bot/action_server.py refuses anything else). The
Telegram bridge calls Rasa's DELIVER_PATH with the same header.
"""

from __future__ import annotations

HEADER = "X-MijnStem-Action-Secret"
SECRET_ENV = "MIJNSTEM_ACTION_SECRET"
PENDING_PATH = "/mijnstem/deliveries/pending"
ACK_PATH = "/mijnstem/deliveries/ack"
# The Rasa-side route the Telegram bridge calls to get a chat's answers rendered.
DELIVER_PATH = "/webhooks/rest/deliver"
STATUSES = ("gelezen", "besproken", "mee_bezig", "gedaan", "kan_niet")
# The line that says a status to the child (domain/caseworker.yml), written out so that
# every response name appears in code (tests/test_rasa_stories.py checks they are used).
STATUS_RESPONSES = {
    "gelezen": "utter_followup_status_gelezen",
    "besproken": "utter_followup_status_besproken",
    "mee_bezig": "utter_followup_status_mee_bezig",
    "gedaan": "utter_followup_status_gedaan",
    "kan_niet": "utter_followup_status_kan_niet",
}
KINDS = ("wish", "message")
