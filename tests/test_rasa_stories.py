"""Rasa's own checks: `rasa data validate --fail-on-warnings`, then the story tests
(tests/test_stories.yml) against the trained model with --fail-on-prediction-errors."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from bot.domain import load_domain
from bot.model import RASA_CLI, ensure_model, rasa_env
from bot.settings import PROJECT_ROOT
from tests.test_consistency import INTENTS_SET_BY_CODE

pytestmark = pytest.mark.timeout(600)


def responses_sent_by_code() -> list[str]:
    """Responses that code sends by name (actions; the channels' own notices in bot/),
    and the questions forms ask (utter_ask_SLOT).

    Rasa's validator counts a response as used only when a story or rule names it, and
    warns about the rest; but most of ours are sent by actions (by name, as STYLE.md
    asks) or asked by forms. They are listed for the validator in a file it reads
    besides data/ (training never sees it), so that --fail-on-warnings still catches
    a response nothing uses.
    """
    domain = load_domain()
    names: set[str] = set()
    for package in ("actions", "bot"):
        for path in (PROJECT_ROOT / package).rglob("*.py"):
            names.update(re.findall(r"""["'](utter_\w+)["']""", path.read_text()))
    for form in domain.get("forms", {}).values():
        names.update(f"utter_ask_{slot}" for slot in form.get("required_slots", []))
    return sorted(name for name in names if name in domain["responses"])


def test_every_domain_response_is_used(tmp_path: Path):
    """A response neither sent by code nor named in data/ is dead copy."""
    domain = load_domain()
    in_data = set()
    for path in (PROJECT_ROOT / "data").rglob("*.yml"):
        in_data.update(re.findall(r"\b(utter_\w+)\b", path.read_text()))
    unused = set(domain["responses"]) - in_data - set(responses_sent_by_code())
    assert not unused, f"responses nothing sends: {sorted(unused)}"


def _run(args: list[str], timeout: int = 540) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*RASA_CLI, *args], cwd=PROJECT_ROOT, env=rasa_env(), capture_output=True,
        text=True, timeout=timeout,
    )


def test_rasa_data_validate(tmp_path: Path):
    catalogue = tmp_path / "sent_by_actions.yml"
    steps = [{"action": "action_continue"}] + [{"action": n} for n in responses_sent_by_code()]
    catalogue.write_text(yaml.safe_dump({
        "version": "3.1",
        "nlu": [{"intent": name, "examples": f"- {example}\n"}
                for name, example in INTENTS_SET_BY_CODE.items()],
        "rules": [{"rule": "responses sent by actions and forms (validation only)",
                   "steps": steps}],
    }))
    result = _run(["data", "validate", "--fail-on-warnings", "--domain", "domain",
                   "--data", "data", str(catalogue)])
    warnings = [line for line in result.stdout.splitlines() + result.stderr.splitlines()
                if "UserWarning" in line and "rasa/shared/utils/io.py" in line]
    assert result.returncode == 0 and not warnings, "\n".join(warnings) or result.stdout[-3000:]


def test_story_tests_pass(tmp_path: Path):
    model = ensure_model()
    out = tmp_path / "results"
    result = _run([
        "test", "core", "--model", str(model), "--stories", "tests/test_stories.yml",
        "--fail-on-prediction-errors", "--out", str(out),
    ])
    failed = out / "failed_test_stories.yml"
    detail = failed.read_text()[:4000] if failed.exists() else result.stdout[-4000:]
    assert result.returncode == 0, detail + result.stderr[-2000:]
