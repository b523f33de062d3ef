"""The child's network circle: people on three rings by closeness, in sectors by role.

What an action puts in a message's `image` to show the child their own circle at the
end of the people topic ("Zo ziet jouw cirkel eruit"): the web chat shows
WEB_CIRCLE_URL (drawn by bot/network/circle.py for that chat's child), and the Telegram
bridge sends `bot.network.circle.child_circle_png(session=..., child_id=...)` as a
photo. The reference itself holds no child data. Light on purpose: no matplotlib here.
"""

CIRCLE_IMAGE_REF = "mijnstem:circle"
WEB_CIRCLE_URL = "/chat/circle.png"
