"""A PNG with QR codes for an invite (`python -m bot invite --qr FILE`): the web chat link
and, when TELEGRAM_BOT_USERNAME is set, the Telegram deep link, side by side, each with a
caption, and the code in plain text underneath for typing it in."""

from __future__ import annotations

from pathlib import Path

import qrcode
from PIL import Image, ImageDraw, ImageFont

from bot import invites
from bot.settings import Settings

BOX = 8  # pixels per QR module: large enough to scan from a printed page
BORDER = 4
PAD = 24
BACKGROUND = "white"
INK = "#1f2d35"


def web_chat_link(settings: Settings, code: str) -> str:
    return f"{settings.public_web_url.rstrip('/')}/chat?code={code}"


def telegram_link(settings: Settings, code: str) -> str | None:
    if not settings.telegram_bot_username:
        return None
    return f"https://t.me/{settings.telegram_bot_username}?start={invites.normalise(code)}"


def _qr(data: str) -> Image.Image:
    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=BOX, border=BORDER
    )
    code.add_data(data)
    code.make(fit=True)
    return code.make_image(fill_color="black", back_color="white").get_image().convert("RGB")


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size)


def invite_image(settings: Settings, code: str) -> Image.Image:
    links = [("Web chat", web_chat_link(settings, code))]
    if (tg := telegram_link(settings, code)) is not None:
        links.append(("Telegram", tg))
    codes = [(label, _qr(url)) for label, url in links]
    label_font, code_font = _font(28), _font(40)
    side = max(img.width for _, img in codes)
    width = PAD + len(codes) * (side + PAD)
    height = PAD + 44 + side + PAD + 56 + PAD
    canvas = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(canvas)
    for i, (label, img) in enumerate(codes):
        left = PAD + i * (side + PAD)
        draw.text((left + side // 2, PAD + 18), label, fill=INK, font=label_font, anchor="mm")
        canvas.paste(img, (left + (side - img.width) // 2, PAD + 44))
    draw.text((width // 2, height - PAD - 28), code, fill=INK, font=code_font, anchor="mm")
    return canvas


def write_invite_qr(path: str | Path, *, settings: Settings, code: str) -> Path:
    target = Path(path)
    invite_image(settings, code).save(target, format="PNG")
    return target
