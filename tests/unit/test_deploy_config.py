"""The scaled profile's configuration: the environment file, the topology it describes and
the nginx configuration written for it (nothing is started here)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.deploy.envfile import EnvFileError, merged, parse_env_file
from bot.deploy.scaled import (
    DEFAULT_ENV_FILE,
    TopologyError,
    nginx_config,
    plan,
    profile_environment,
)


def test_env_file_lines():
    text = """
    # a comment
    export DATABASE_URL=postgresql://postgres@127.0.0.1:5432/supportbot
    LOCK_STORE_URL = redis://127.0.0.1:6379/0   # trailing comment
    SUPPORTBOT_CORS_ORIGINS="https://shop.example https://www.shop.example"
    EMPTY=
    """
    assert parse_env_file(text) == {
        "DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/supportbot",
        "LOCK_STORE_URL": "redis://127.0.0.1:6379/0",
        "SUPPORTBOT_CORS_ORIGINS": "https://shop.example https://www.shop.example",
        "EMPTY": "",
    }
    with pytest.raises(EnvFileError, match="line 2"):
        parse_env_file("A=1\nnot a setting\n", "scaled.env")


def test_a_variable_set_in_the_environment_wins_over_the_file():
    env = merged({"DATABASE_URL": "from-file", "RASA_PORT": "5005"}, {"DATABASE_URL": "mine"})
    assert env["DATABASE_URL"] == "mine" and env["RASA_PORT"] == "5005"


def test_the_committed_env_file_is_the_loopback_topology():
    env = profile_environment({}, DEFAULT_ENV_FILE)
    topology = plan(env)
    assert topology.settings.database_url.startswith("postgresql://")
    assert topology.settings.tracker_db_url.startswith("postgresql://")
    assert env["LOCK_STORE_URL"].startswith("redis://127.0.0.1")
    assert env["EVENT_BROKER_URL"].startswith("amqp://")
    assert topology.replicas == 2
    assert topology.rasa_ports == (5005, 5006) and topology.action_ports == (5055, 5056)
    # Behind nginx the widget's page and its socket.io channel share nginx's origin.
    assert env["SUPPORTBOT_PUBLIC_RASA_URL"] == "http://127.0.0.1:8000"
    assert "http://localhost:8000" in env["SUPPORTBOT_CORS_ORIGINS"].split()
    assert env["SUPPORTBOT_TRUST_FORWARDED_FOR"] == "1"


def test_each_replica_is_paired_with_its_own_action_server(tmp_path: Path):
    env = profile_environment(
        {
            "SUPPORTBOT_VAR_DIR": str(tmp_path),
            "SUPPORTBOT_RASA_PORTS": "7001 7002 7003",
            "SUPPORTBOT_ACTION_PORTS": "7101 7102 7103",
        },
        DEFAULT_ENV_FILE,
        replicas=3,
    )
    topology = plan(env)
    assert [topology.replica_settings(i).action_endpoint_url for i in range(3)] == [
        "http://127.0.0.1:7101/webhook",
        "http://127.0.0.1:7102/webhook",
        "http://127.0.0.1:7103/webhook",
    ]
    assert topology.replica_env(2)["RASA_PORT"] == "7003"
    with pytest.raises(TopologyError, match="lists 3 ports for 2 replicas"):
        plan({**env, "SUPPORTBOT_REPLICAS": "2"})


def _locations(config: str) -> dict[str, str]:
    """Each `location` of the server block and the upstream (or `return`) it leads to."""
    found = {}
    for match in re.finditer(r"location ([^{]+)\{(.*?)\n        \}", config, re.S):
        body = match.group(2)
        target = re.search(r"proxy_pass http://(\w+);|return (\d+);", body)
        assert target is not None, match.group(0)
        found[match.group(1).strip()] = target.group(1) or target.group(2)
    return found


def test_nginx_exposes_only_the_public_routes(tmp_path: Path):
    env = profile_environment(
        {"SUPPORTBOT_VAR_DIR": str(tmp_path), "WEB_PORT": "9080", "SUPPORTBOT_PUBLIC_PORT": "9000"},
        DEFAULT_ENV_FILE,
    )
    config = nginx_config(plan(env))
    assert _locations(config) == {
        "= /webhooks/rest/webhook": "rasa_rest",
        "/socket.io/": "rasa_socketio",
        "~ ^/(conversations|model|status|version|domain|webhooks)(/|$)": "404",
        "/": "website",
    }
    upstreams = dict(re.findall(r"upstream (\w+) \{(.*?)\}", config, re.S))
    # socket.io sticky by the widget's visitor id, else the client's address; REST
    # round-robin (no balancing directive); both replicas
    assert "hash $socketio_key consistent;" in upstreams["rasa_socketio"]
    key = re.search(r"map \$arg_visitor \$socketio_key \{(.*?)\n    \}", config, re.S)
    assert key and re.search(r"default\s+\$remote_addr;", key.group(1))
    assert "hash" not in upstreams["rasa_rest"] and "ip_hash" not in upstreams["rasa_rest"]
    for name in ("rasa_socketio", "rasa_rest"):
        assert re.findall(r"server (\S+?);", upstreams[name]) == [
            "127.0.0.1:5005",
            "127.0.0.1:5006",
        ]
    assert re.findall(r"server (\S+?);", upstreams["website"]) == ["127.0.0.1:9080"]
    assert "listen 127.0.0.1:9000;" in config
    # nothing points at an action server
    assert "5055" not in config and "5056" not in config
    assert str(tmp_path) in config  # logs, pid and temporary files under the var directory
