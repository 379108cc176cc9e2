"""Safety: YAML that constructs objects is refused, IDs never escape the repository, symlinks are never written through."""
from __future__ import annotations

import json
import os
from pathlib import Path

import openpyxl
import pytest

from conftest import TICKET, commit_count

from cslog.ids import is_safe
from cslog.yamlio import YamlSyntaxError, load_text

OBJECT_TAGS = [
    "!!python/object/apply:os.system ['touch {marker}']",
    "!!python/object/new:subprocess.Popen [['touch', '{marker}']]",
    "!!python/name:os.system",
    "!!python/module:os",
    "!!python/object:builtins.dict {}",
]
NOT_JSON_TAGS = ["!!binary aGVsbG8=", "!!set {a: null}", "!!timestamp 2026-11-22", "!!omap [a: 1]", "!!pairs [a: 1]"]


@pytest.mark.parametrize("tag", OBJECT_TAGS + NOT_JSON_TAGS)
def test_the_loader_refuses_tags_that_construct_objects(tag, tmp_path):
    marker = tmp_path / "pwned"
    with pytest.raises(YamlSyntaxError, match="refused YAML tag"):
        load_text("name: x\nnotes: " + tag.replace("{marker}", str(marker)) + "\n")
    assert not marker.exists()


@pytest.mark.parametrize("text, message", [
    ("a: &x [*x]\n", "alias"),
    ("a: &x {b: *x}\n", "alias"),
    ("a: &x [1, 2]\nb: *x\n", "alias"),
    ("a: " + "[" * 100 + "]" * 100 + "\n", "nested too deeply"),
])
def test_aliases_and_deep_nesting_are_refused(text, message):
    with pytest.raises(YamlSyntaxError, match=message):
        load_text(text)


def test_a_record_with_an_object_tag_is_reported_and_hides_nothing(cli, repo, customer, tmp_path):
    marker = tmp_path / "pwned"
    bad = repo / "customers" / "C0002.yaml"
    bad.write_text(f"id: C0002\nname: !!python/object/apply:os.system ['touch {marker}']\n", encoding="utf-8")
    check = cli("check")
    assert check.exit_code == 1
    assert "customers/C0002.yaml:2: refused YAML tag" in check.stdout
    listed = cli("list", "customers", "--format", "json")
    assert listed.exit_code == 0 and [r["id"] for r in json.loads(listed.stdout)] == [customer]
    shown = cli("show", "C0002")
    assert shown.exit_code == 2 and "refused YAML tag" in shown.stderr
    assert not marker.exists()


def test_from_file_with_an_object_tag_is_refused(cli, repo, tmp_path):
    marker = tmp_path / "pwned"
    source = tmp_path / "c.yaml"
    source.write_text(f"name: !!python/object/apply:os.system ['touch {marker}']\n", encoding="utf-8")
    result = cli("new", "customer", "--from-file", source)
    assert result.exit_code == 2 and "refused YAML tag" in result.stderr
    assert not marker.exists() and not list(repo.glob("customers/*.yaml"))


BAD_IDS = ["../../etc/passwd", "/etc/passwd", "C0001/../../x", "..", ".", "", "C0001\x00", "C0001\n", "-rf",
           "CW2026\\..\\x", "C0001 ", "~root"]


@pytest.mark.parametrize("bad", BAD_IDS)
def test_ids_are_checked_before_they_touch_a_path(cli, repo, ticket, bad):
    before = commit_count(repo)
    for args in (["show", bad], ["status", bad, "in_progress"], ["note", bad, "x"], ["link", ticket, bad],
                 ["link", bad, ticket], ["history", bad], ["new", "customer", "--name", "X", "--id", bad],
                 [*TICKET, "--customer", bad], ["new", "--customer", bad, "--channel", "phone", "--request", "r"],
                 ["new", "--customer", "C0001", "--channel", "phone", "--request", "r", "--ticket", bad]):
        if bad == "" and any(a.startswith("--") and b == "" for a, b in zip(args, args[1:])):
            continue  # an empty option is no option (--id '' is the next free ID)
        result = cli(*args)
        assert result.exit_code == 2, (args, result.output)
        assert "Traceback" not in result.output and "internal error" not in result.stderr
    assert commit_count(repo) == before
    assert sorted(p.name for p in repo.glob("customers/*")) == [".gitkeep", "C0001.yaml"]


def test_safe_id_pattern():
    assert is_safe("CW202611220001") and is_safe("C0001") and is_safe("GT-1_a")
    for bad in BAD_IDS + [None, 42, "a" * 65]:
        assert not is_safe(bad)


def test_import_never_uses_a_sheet_id_as_a_path(cli, repo, tmp_path):
    book = openpyxl.Workbook()
    book.active.append(["工单编号", "客户名称", "问题类型", "问题等级", "问题描述", "受理时间"])
    for bad in ("../../../outside", "/tmp/x", "CW20261122/0001", "..\\x"):
        book.active.append([bad, "A公司", "咨询", "一般", "问题", "2026-11-22 14:30"])
    book.save(tmp_path / "t.xlsx")
    result = cli("import", tmp_path / "t.xlsx", "--format", "json")
    assert result.exit_code == 0, result.stderr
    made = [r["id"] for r in json.loads(result.stdout) if r["kind"] == "ticket"]
    assert made == [f"CW2026112200{n:02d}" for n in range(1, 5)]
    assert not (tmp_path / "outside.yaml").exists()
    assert {p.parent for p in repo.glob("tickets/**/*.yaml")} == {repo / "tickets/2026/11"}


@pytest.fixture
def outside(tmp_path) -> Path:
    folder = tmp_path / "outside"
    folder.mkdir()
    return folder


def test_a_month_folder_linked_outside_is_never_written_through(cli, repo, customer, outside):
    (repo / "tickets/2026").mkdir(parents=True)
    os.symlink(outside, repo / "tickets/2026/11")
    before = commit_count(repo)
    result = cli(*TICKET, "--customer", customer)
    assert result.exit_code == 2
    assert "refusing to write tickets/2026/11/CW202611220001.yaml: it leads outside the repository" in result.stderr
    assert list(outside.iterdir()) == []
    assert commit_count(repo) == before


def test_a_kind_folder_linked_outside_is_never_written_through(cli, repo, outside):
    (repo / "customers").rename(repo / "customers.old")
    os.symlink(outside, repo / "customers")
    result = cli("new", "customer", "--name", "A公司")
    assert result.exit_code == 2 and "outside the repository" in result.stderr
    assert list(outside.iterdir()) == []


def test_a_record_file_linked_outside_is_never_overwritten(cli, repo, ticket, outside):
    path = next(repo.glob(f"tickets/*/*/{ticket}.yaml"))
    victim = outside / "victim.yaml"
    victim.write_bytes(path.read_bytes())
    before = victim.read_bytes()
    path.unlink()
    os.symlink(victim, path)
    for args in (["status", ticket, "in_progress"], ["note", ticket, "进展"], ["assign", ticket, "小强"]):
        result = cli(*args)
        assert result.exit_code == 2, (args, result.output)
        assert "outside the repository (symlink)" in result.stderr
    assert victim.read_bytes() == before
    assert path.is_symlink()


def test_a_dangling_symlink_in_place_of_a_new_record_is_never_followed(cli, repo, customer, outside):
    (repo / "tickets/2026/11").mkdir(parents=True)
    link = repo / "tickets/2026/11/CW202611220001.yaml"
    os.symlink(outside / "new.yaml", link)
    assert cli.ok(*TICKET, "--customer", customer) == "CW202611220002"  # the name is taken: the next one
    assert list(outside.iterdir()) == [] and link.is_symlink()


def test_the_cache_folder_linked_outside_is_never_written_through(cli, repo, outside):
    cache = repo / ".cslog"
    if cache.exists():
        for p in cache.iterdir():
            p.unlink()
        cache.rmdir()
    os.symlink(outside, cache)
    result = cli("new", "customer", "--name", "A公司")
    assert result.exit_code == 2 and "refusing to write .cslog/lock" in result.stderr
    assert list(outside.iterdir()) == []
