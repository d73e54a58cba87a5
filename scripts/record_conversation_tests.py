"""Record conversation tests from real chats with the running bot.

Each scenario in tests/conversations/scenarios.json is a list of customer messages. This
script sends them to the bot over REST, reads back the story Rasa made of the conversation
(`GET /conversations/<id>/story`) and writes them as test stories. Review the diff before
committing: the recording is what the bot does now, the review is what makes it a test.

Usage (with `make run` going): .venv/bin/python scripts/record_conversation_tests.py [RASA_URL]
Reading the story is a call to Rasa's HTTP API: it sends the API token of this environment
(RASA_AUTH_TOKEN, or var/rasa-api.token, the one `supportbot serve` gave the Rasa server).
Order numbers in the scenarios must exist in the bot's database (see `supportbot demo-orders`).
"""

from __future__ import annotations

import json
import sys
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.scalarstring import LiteralScalarString

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "tests" / "conversations" / "scenarios.json"
OUT = ROOT / "tests" / "conversations" / "test_support.yml"
HEADER = (
    "# Conversation tests: every flow, including its unhappy paths. Run by `make test`\n"
    "# (rasa test --e2e --fail-on-prediction-errors). Recorded from real chats by\n"
    "# scripts/record_conversation_tests.py from scenarios.json, then reviewed.\n"
)


def post(url: str, payload: dict) -> list:
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def api_token() -> str:
    from bot.auth.keys import rasa_api_token
    from bot.settings import Settings

    return rasa_api_token(Settings.from_env())


def record(rasa_url: str, name: str, messages: list[str], token: str) -> list[dict]:
    sender = f"record-{uuid.uuid4().hex[:8]}"
    for message in messages:
        replies = post(f"{rasa_url}/webhooks/rest/webhook", {"sender": sender, "message": message})
        print(f"[{name}] {message!r} -> {len(replies)} replies")
    query = urllib.parse.urlencode({"token": token})
    story_url = f"{rasa_url}/conversations/{sender}/story?{query}"
    with urllib.request.urlopen(story_url, timeout=60) as response:
        story = yaml.safe_load(response.read().decode())
    steps = []
    for step in story["stories"][0]["steps"]:
        if "user" in step:
            step = {
                "user": LiteralScalarString(step["user"].rstrip() + "\n"),
                "intent": step["intent"],
            }
        steps.append(step)
    return steps


def main() -> int:
    rasa_url = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:5005"
    scenarios = json.loads(SCENARIOS.read_text())
    token = api_token()
    stories = [
        {"story": name, "steps": record(rasa_url, name, messages, token)}
        for name, messages in scenarios.items()
    ]
    writer = YAML()
    writer.indent(mapping=2, sequence=4, offset=2)
    writer.width = 120
    with OUT.open("w", encoding="utf-8") as handle:
        handle.write(HEADER)
        writer.dump({"version": "3.1", "stories": stories}, handle)
    print(f"Wrote {len(stories)} stories to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
