"""The ballot file's format (docs/ballot-format.md): files are written as linli-ballot/2; files
of linli-ballot/1, stored here as the code before issue 18 wrote them, still verify and recount,
on the server's code and with `linli ballots recount`."""
import copy
import json
from pathlib import Path

import pytest

from plugins.voting import integrity, services

pytestmark = pytest.mark.plugins("voting")
DATA = Path(__file__).parent / "data"
V1_FILES = sorted(DATA.glob("ballot-v1-*.json"))


def load(path):
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", V1_FILES, ids=lambda p: p.stem)
def test_a_linli_ballot_1_file_still_verifies_and_recounts(path, runner):
    data = load(path)
    assert data["format"] == data["manifest"]["format"] == "linli-ballot/1"
    out = integrity.recount(data)
    assert out["ok"], out["problems"]
    assert out["matches_published_result"] and out["result"] == data["result"]
    r = runner.invoke(args=["ballots", "recount", str(path)])
    assert r.exit_code == 0, r.output
    # and a changed vote in it is still caught
    forged = copy.deepcopy(data)
    first = next(e for e in forged["entries"] if e["choice"] is not None)
    first["choice"] = [1 - first["choice"][0]] if first["choice"][0] in (0, 1) else [0]
    assert not integrity.recount(forged)["ok"]


def test_v1_files_are_there():
    assert {p.stem for p in V1_FILES} == {"ballot-v1-residents", "ballot-v1-owners"}


def test_new_files_are_linli_ballot_2_and_an_unknown_format_is_refused(world, api, runner, tmp_path):
    b = services.create(world.community, world.staff, {"title": "垃圾分类亭选址", "days": 7}, open_now=True)
    services.cast(b, world.resident, "yes")
    services.close(b, world.staff, "测试")
    data = api(None).get(f"/api/v1/c/test/voting/ballots/{b.id}/export").get_json()
    assert data["format"] == data["manifest"]["format"] == integrity.FORMAT == "linli-ballot/2"
    assert integrity.recount(data)["ok"]
    data["format"] = "linli-ballot/3"
    with pytest.raises(ValueError):
        integrity.recount(data)
    path = tmp_path / "b.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    r = runner.invoke(args=["ballots", "recount", str(path)])
    assert r.exit_code == 1 and "Traceback" not in r.output


def test_a_ballot_opened_under_format_1_is_exported_as_format_1(world, api, monkeypatch):
    monkeypatch.setattr(integrity, "FORMAT", "linli-ballot/1")
    b = services.create(world.community, world.staff, {"title": "楼道堆物清理", "days": 7}, open_now=True)
    monkeypatch.undo()
    services.cast(b, world.resident, "no")
    services.close(b, world.staff, "测试")
    data = api(None).get(f"/api/v1/c/test/voting/ballots/{b.id}/export").get_json()
    assert data["format"] == data["manifest"]["format"] == "linli-ballot/1"
    assert integrity.recount(data)["ok"]
