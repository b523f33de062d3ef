"""The answer loop (issue 8) outside storage: deliveries to the child, notices by
e-mail, the overdue escalation, team figures and the demo. Nothing is imported here:
bot.loop.internal runs inside Rasa too (standard library only)."""
