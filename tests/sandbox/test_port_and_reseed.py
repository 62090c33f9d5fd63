"""The sandbox's port is the local stack's (one setting moves both) and new flows need no restart."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import requests
import yaml

import sandbox.__main__ as sandbox_cli
from sandbox.port import move_stack_port, stack_port
from sandbox.seed import SeedError, seed_database
from sandbox.server import SandboxServer, free_port
from sandbox.settings import SandboxSettings
from tests.fixture_stacks import fixture_stack

NEW_FLOW = "00000000-0000-4000-8000-0000000000b1"


def local_stack(tmp_path: Path) -> Path:
    path = tmp_path / "Pulumi.local.yaml"
    shutil.copy(fixture_stack("local"), path)
    return path


def loopback_urls(path: Path) -> list[str]:
    config = yaml.safe_load(path.read_text())["config"]
    flows = [f for d in config["segment-pendula:destinations"] for f in d["flows"]]
    return [config["segment:url"], config["segment-pendula:pendulaApiUrl"]] + [
        f["url"] for f in flows
    ]


def test_port_moves_every_loopback_url_of_the_stack_and_keeps_comments(tmp_path: Path) -> None:
    path = local_stack(tmp_path)
    before = path.read_text()
    assert stack_port(path) == 8787

    assert move_stack_port(path, 9901) == 5  # segment:url, pendulaApiUrl, three flows
    assert move_stack_port(path, 9901) == 0  # idempotent

    assert stack_port(path) == 9901
    assert all(url.startswith("http://127.0.0.1:9901") for url in loopback_urls(path))
    after = path.read_text()
    assert after.replace(":9901", ":8787") == before  # nothing else changed, comments kept


def test_sandbox_port_flag_moves_the_stack_and_serves_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = local_stack(tmp_path)
    port = free_port()
    ports: list[int] = []
    monkeypatch.setattr(sandbox_cli.uvicorn, "run", lambda app, **kw: ports.append(kw["port"]))

    sandbox_cli.main(["--seed", str(path), "--port", str(port), "--db", str(tmp_path / "d.db")])

    assert ports == [port]
    assert f"moved 5 URL(s) in {path} to port {port}" in capsys.readouterr().out
    assert all(url.startswith(f"http://127.0.0.1:{port}/") or url == f"http://127.0.0.1:{port}"
               for url in loopback_urls(path))  # fmt: skip


def test_a_stack_url_without_a_port_is_a_clear_error(tmp_path: Path) -> None:
    path = local_stack(tmp_path)
    path.write_text(
        path.read_text().replace(
            "segment:url: http://127.0.0.1:8787", "segment:url: http://127.0.0.1"
        )
    )
    with pytest.raises(
        SeedError,
        match=r"segment:url: 'http://127.0.0.1' names no port; write it as http://127.0.0.1:8787",
    ):
        stack_port(path)


def test_seed_only_seeds_and_exits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = local_stack(tmp_path)
    monkeypatch.setattr(sandbox_cli.uvicorn, "run", lambda app, **kw: pytest.fail("served"))
    sandbox_cli.main(["--seed", str(path), "--seed-only", "--db", str(tmp_path / "d.db")])
    assert (tmp_path / "d.db").exists()


def add_flow(path: Path, port: int) -> None:
    document = yaml.safe_load(path.read_text())
    config = document["config"]
    config["segment-pendula:destinations"][0]["flows"].append(
        {
            "name": "big-order",
            "url": f"http://127.0.0.1:{port}/webhook/inbound/{NEW_FLOW}",
            "enabled": False,
            "conditions": {"all": [{"event": {"is": "Order Completed"}}]},
        }
    )
    config["segment-pendula:pendulaTokens"]["big-order"] = "sandbox-provided-token-big-order"
    path.write_text(yaml.safe_dump(document, sort_keys=False))


def test_a_flow_added_to_the_stack_works_without_a_restart(tmp_path: Path) -> None:
    path = local_stack(tmp_path)
    settings = SandboxSettings(db_path=tmp_path / "sandbox.sqlite3", seed_stack=path)
    with SandboxServer(settings) as server:
        move_stack_port(path, server.port)
        seed_database(settings.db_path, path)
        add_flow(path, server.port)  # after the sandbox started

        answer = requests.post(
            f"{server.url}/webhook/inbound/{NEW_FLOW}",
            json={"type": "track", "event": "Order Completed"},
            headers={"Authorization": "Bearer sandbox-provided-token-big-order"},
            timeout=10,
        )

    assert answer.status_code == 202, answer.text
    assert "experience_id" in answer.json()


def test_an_unknown_flow_is_answered_with_how_to_make_it_known(tmp_path: Path) -> None:
    path = local_stack(tmp_path)
    seeded = SandboxSettings(db_path=tmp_path / "a.sqlite3", seed_stack=path)
    unseeded = SandboxSettings(db_path=tmp_path / "b.sqlite3")
    answers = []
    for settings in (seeded, unseeded):
        with SandboxServer(settings) as server:
            answers.append(
                requests.post(
                    f"{server.url}/webhook/inbound/{NEW_FLOW}",
                    json={"type": "track"},
                    headers={"Authorization": "Bearer whatever"},
                    timeout=10,
                )
            )

    assert [a.status_code for a in answers] == [404, 404]
    assert f"no flow URL in {path} ends with this id" in answers[0].text
    assert "Add the flow there" in answers[0].text
    assert (
        "venv/bin/python -m sandbox --seed stacks/Pulumi.local.yaml --seed-only" in answers[1].text
    )
