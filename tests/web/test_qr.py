"""`python -m bot invite --qr FILE` (the CLI's main, in process: a subprocess per case
costs seconds; tests/bot/test_cli.py covers the subprocess itself)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from bot.cli import main
from bot.web.qr import PAD, _qr
from tests.conftest import make_test_env


@pytest.fixture
def run_invite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    def run(*args: str, **env: str) -> tuple[int, str, str]:
        for name in list(os.environ):
            if name.startswith(("MIJNSTEM_", "TELEGRAM_")) or name == "DATABASE_URL":
                monkeypatch.delenv(name)
        for name, value in make_test_env(tmp_path / "var", **env).items():
            monkeypatch.setenv(name, value)
        status = main(["invite", "--age", "9", *args])
        out, err = capsys.readouterr()
        return status, out, err

    return run


def contains_qr(image: Image.Image, data: str, left: int) -> bool:
    expected = _qr(data)
    region = image.crop((left, PAD + 44, left + expected.width, PAD + 44 + expected.height))
    return ImageChops.difference(region, expected).getbbox() is None


def test_invite_writes_qr_codes_for_both_links(tmp_path: Path, run_invite) -> None:
    target = tmp_path / "invite.png"
    status, out, err = run_invite("--age", "16", "--qr", str(target),
                                  TELEGRAM_BOT_USERNAME="MijnStemBot")
    assert status == 0, err
    code = out.strip().splitlines()[-1]
    assert re.fullmatch(r"[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}", code)
    assert f"QR codes: {target}" in out
    image = Image.open(target).convert("RGB")
    web = f"http://127.0.0.1:8000/chat?code={code}"
    telegram = f"https://t.me/MijnStemBot?start={code.replace('-', '')}"
    side = max(_qr(web).width, _qr(telegram).width)
    assert contains_qr(image, web, PAD + (side - _qr(web).width) // 2)
    left = PAD + side + PAD
    assert contains_qr(image, telegram, left + (side - _qr(telegram).width) // 2)
    assert image.width == PAD + 2 * (side + PAD)


def test_without_telegram_only_the_web_link(tmp_path: Path, run_invite) -> None:
    target = tmp_path / "web.png"
    status, out, err = run_invite("--qr", str(target))
    assert status == 0, err
    code = out.strip().splitlines()[-1]
    image = Image.open(target).convert("RGB")
    web = f"http://127.0.0.1:8000/chat?code={code}"
    assert contains_qr(image, web, PAD)
    assert image.width == PAD + _qr(web).width + PAD


def test_qr_into_a_missing_folder_fails_before_making_a_code(tmp_path: Path, run_invite) -> None:
    status, out, err = run_invite("--qr", str(tmp_path / "nope" / "x.png"))
    assert status == 2 and "--qr" in err and out == ""


def test_under_sixteen_no_telegram_qr(tmp_path: Path, run_invite) -> None:
    target = tmp_path / "young.png"
    status, out, err = run_invite("--age", "15", "--qr", str(target),
                                  TELEGRAM_BOT_USERNAME="MijnStemBot")
    assert status == 0, err
    code = out.strip().splitlines()[-1]
    image = Image.open(target).convert("RGB")
    web = f"http://127.0.0.1:8000/chat?code={code}"
    assert contains_qr(image, web, PAD)
    assert image.width == PAD + _qr(web).width + PAD, "only the web chat's QR code"
    assert "t.me" not in out
