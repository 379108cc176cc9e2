"""`cslog overdue` prints rows the index keeps pre-rendered (slaview.overdue_text): the text must be exactly what
rendering find_overdue's rows gives, whichever way it was made; and Index.ask, which asks the index while git
works, must answer as if git had answered first."""
import json
import os
import shutil
import subprocess
import time
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cslog import render, slaview
from cslog.index import Index
from cslog.store import Store
from cslog.timeutil import parse_time
from conftest import git

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture(scope="module")
def examples(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("overdue") / "examples"
    shutil.copytree(EXAMPLES, root, ignore=shutil.ignore_patterns(".cslog", "generate.py"))
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "examples")
    return root


def slow_text(store: Store, now, format: str, **kw) -> tuple[int, str]:
    """What rendering find_overdue's rows prints (the way that works for any row)."""
    found = slaview.find_overdue(store, now, **kw)
    if format == "json":
        text = "".join(render.json_pieces(found.rows))
    elif format == "csv":
        text = render.to_csv(found.rows, list(slaview.ROW_KEYS))
    else:
        text = "".join(line + "\n" for line in slaview.overdue_table_lines(found.rows, store.settings.language))
    return len(found.rows), text


def fast_text(store: Store, now, format: str, **kw) -> tuple[int, str]:
    count, pieces, _problems = slaview.overdue_text(store, now, format, **kw)
    return count, b"".join(pieces).decode("utf-8")


def spy_fast(monkeypatch) -> list:
    """Records whether overdue_text's question answered with pieces (True) or with rows (False)."""
    taken = []
    real = slaview._OverdueQuestion.__call__

    def pieces(self, index, paths=None):
        answer = real(self, index, paths)
        if paths is None:
            taken.append(isinstance(answer, slaview._Listing))
        return answer

    monkeypatch.setattr(slaview._OverdueQuestion, "__call__", pieces)
    return taken


CASES = [
    ("2026-11-22T14:30:00+08:00", {}),
    ("2026-12-31T18:00:00+08:00", {}),
    ("2026-12-31T18:00:00+08:00", {"kinds": ["claim"]}),
    ("2026-12-31T18:00:00+08:00", {"kinds": ["followup", "callback"]}),
    ("2026-12-31T18:00:00+08:00", {"owner": "小丽"}),
    ("2026-12-31T18:00:00+08:00", {"department": "技术部"}),
    ("2026-12-31T18:00:00+08:00", {"within": timedelta(days=3)}),
    ("2026-09-01T09:00:00+08:00", {"within": timedelta(hours=8)}),  # a past `at`: tickets computed on the spot
]


@pytest.mark.parametrize("format", ["json", "table", "csv"])
@pytest.mark.parametrize("at,kw", CASES)
def test_the_same_text_as_rendering_the_rows(examples, monkeypatch, format, at, kw):
    store = Store.discover(examples)
    now = parse_time(at, store.settings.tz)
    taken = spy_fast(monkeypatch)
    fast = fast_text(store, now, format, **kw)
    assert fast == slow_text(store, now, format, **kw)
    if format == "csv":
        assert taken == []


def test_the_pre_rendered_way_is_taken_for_the_usual_listing(examples, monkeypatch):
    store = Store.discover(examples)
    now = parse_time("2026-12-31T18:00:00+08:00", store.settings.tz)
    for format in ("json", "table"):
        taken = spy_fast(monkeypatch)
        count, text = fast_text(store, now, format)
        assert taken == [True] and count > 10
        assert (json.loads(text) if format == "json" else text)


def test_english_tables_too(examples, tmp_path, monkeypatch):
    root = tmp_path / "en"
    shutil.copytree(examples, root, ignore=shutil.ignore_patterns(".cslog"), symlinks=True)
    config = root / "cslog.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace("language: zh", "language: en"), encoding="utf-8")
    store = Store.discover(root)
    assert store.settings.language == "en"
    now = parse_time("2026-12-31T18:00:00+08:00", store.settings.tz)
    taken = spy_fast(monkeypatch)
    for format in ("table", "json"):
        assert fast_text(store, now, format) == slow_text(store, now, format)
    assert taken == [True, True]
    assert "Clock" in fast_text(store, now, "table")[1]


def test_odd_values_keep_the_table_exact(cli, customer, monkeypatch):
    """An ID wider than cslog's, an unknown priority, no owner, an empty or long mixed-width title: the
    rows are rendered the general way or padded exactly as it pads them."""
    ids = [cli.ok("new", "ticket", "--customer", customer, "--type", "fault", "--priority", p, "--channel", "phone",
                  "--title", title, "--description", "d", "--received-at", "2026-11-20T09:00:00+08:00").strip()
           for p, title in [("urgent", "打不开 App 😀 " * 6), ("normal", "x"), ("important", "全角　空格")]]
    store = Store.discover(cli.repo)
    now = parse_time("2026-11-22T18:00:00+08:00", store.settings.tz)  # after the tickets' last events
    taken = spy_fast(monkeypatch)
    for format in ("table", "json"):
        assert fast_text(store, now, format) == slow_text(store, now, format)
    assert taken == [True, True]
    path = next(cli.repo.glob(f"tickets/*/*/{ids[1]}.yaml"))
    text = path.read_text(encoding="utf-8")
    text = text.replace(f"id: {ids[1]}", f"id: {ids[1]}-EXTRA-WIDE").replace("priority: normal", "priority: 特急加急加急")
    text = text.replace("title: x", "title: ''")
    path.write_text(text, encoding="utf-8")
    taken.clear()
    for format in ("table", "json"):
        count, out = fast_text(store, now, format)
        assert (count, out) == slow_text(store, now, format)
        assert "EXTRA-WIDE" in out
    # the table, asked again once the edit was seen (not mended: a wider cell), found the pieces too wide for
    # their padding and took the rows; the JSON took the pieces
    assert taken == [True, False, True]


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=-10**7, max_value=10**8), st.sampled_from(["zh", "en"]))
def test_late_cell_is_late_words_and_its_width(minutes, language):
    text, width = slaview.late_cell(language)(minutes)
    assert text == slaview.late_words(minutes, language)
    assert width == render.text_width(text)


TEXT = st.one_of(st.none(), st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=30))


@settings(max_examples=200, deadline=None)
@given(st.fixed_dictionaries({"id": TEXT, "kind": st.sampled_from(slaview.CLOCK_KINDS),
                              "due": st.just("2026-11-22T14:30:00+08:00"), "priority": TEXT, "status": TEXT,
                              "owner": TEXT, "title": TEXT}),
       st.integers(min_value=-10**6, max_value=10**7))
def test_row_pieces_json_is_the_row_encoded(row, minutes):
    jh, jt = slaview.row_pieces(row, "zh")[:2]
    whole = {**row, "overdue_minutes": minutes}
    assert jh + str(minutes) + jt == "".join(render.json_pieces([{k: whole[k] for k in slaview.ROW_KEYS}]))[4:-2]


# -- Index.ask ------------------------------------------------------------------------------------------

def test_ask_sees_an_edit_made_since_the_index_was_brought_up_to_date(cli, ticket):
    store = Store.discover(cli.repo)
    Index.open(store).close()  # built, and on the git way
    path = next(cli.repo.glob(f"tickets/*/*/{ticket}.yaml"))
    path.write_text(path.read_text(encoding="utf-8").replace("title:", "title: 改过的", 1), encoding="utf-8")
    past = path.stat().st_mtime_ns - 10**10  # not "racy" (see index.RACY_NS): read once, then trusted
    os.utime(path, ns=(past, past))
    # (git starts looking here: an edit made while it looks may or may not be in this answer, and is in the next)
    index = Index.open(store, defer=True)
    asked = []

    def question(ix):
        asked.append(1)
        return ix.rows("ticket", ["title"])[0]["title"]

    assert question.__name__ and index.ask(question).startswith("改过的")
    assert len(asked) == 2  # asked while git worked, then again once the edit was read
    index.close()
    again = Index.open(store, defer=True)
    asked.clear()
    assert again.ask(question).startswith("改过的") and len(asked) == 1  # nothing changed since: asked once
    again.close()


def test_ask_passes_on_what_the_question_raises(cli, ticket):
    store = Store.discover(cli.repo)
    Index.open(store).close()
    index = Index.open(store, defer=True)

    def question(_ix):
        raise LookupError("from the question")

    with pytest.raises(LookupError, match="from the question"):
        index.ask(question)
    assert not index.db.in_transaction
    assert index.ask(lambda ix: len(ix.rows("ticket"))) == 1  # not deferred any more: asked straight
    index.close()


def test_ask_after_a_commit_elsewhere(cli, ticket):
    store = Store.discover(cli.repo)
    Index.open(store).close()
    cli.ok("note", ticket, "客户来电催促")
    index = Index.open(store, defer=True)
    found = index.ask(lambda ix: ix.full_doc("ticket", ix.rows_with_paths("ticket")[0][0])["timeline"][-1]["text"])
    assert found == "客户来电催促"
    index.close()


# -- mending: after a few records changed, only they are asked about again ----------------------------

def spy_mend(monkeypatch) -> list:
    """Records what each mend gave: True for a mended answer, False when it had to be asked again."""
    mended = []
    real = slaview._OverdueQuestion.mend

    def mend(self, answer, old, new):
        result = real(self, answer, old, new)
        mended.append(result is not None)
        return result

    monkeypatch.setattr(slaview._OverdueQuestion, "mend", mend)
    return mended


def aged(repo: Path) -> None:
    """Folders old enough that their mtimes are trusted (the everyday state of a repository)."""
    when = time.time() - 60
    for folder in [p for p in repo.glob("tickets/**") if p.is_dir()] + [repo / "tickets"]:
        os.utime(folder, (when, when))


@pytest.fixture
def desk(cli, customer) -> tuple:
    """Six tickets, some late by 2026-11-23, the index built and up to date."""
    ids = []
    for i, (priority, owner) in enumerate([("urgent", "小王"), ("normal", "小李"), ("important", "小王"),
                                           ("urgent", ""), ("normal", "小张"), ("important", "小李")]):
        args = ["new", "ticket", "--customer", customer, "--type", "fault", "--priority", priority, "--channel",
                "phone", "--title", f"第{i}张工单", "--description", "d", "--received-at",
                f"2026-11-2{i % 3}T{9 + i % 2:02d}:00:00+08:00"]
        ids.append(cli.ok(*args, *(["--owner", owner] if owner else [])).strip())
    aged(cli.repo)
    store = Store.discover(cli.repo)
    Index.open(store).close()
    return store, ids, parse_time("2026-11-23T18:00:00+08:00", store.settings.tz)


TICKET_ARGS = ("new", "ticket", "--customer", "C0001", "--type", "fault", "--priority", "important", "--channel",
               "phone", "--title", "随机加的", "--description", "d")


def path_of(repo: Path, tid: str) -> Path:
    return next(repo.glob(f"tickets/*/*/{tid}.yaml"))


def test_an_edit_by_hand_is_mended_in(cli, desk, monkeypatch):
    store, ids, now = desk
    path = path_of(cli.repo, ids[1])
    path.write_text(path.read_text(encoding="utf-8").replace("第1张工单", "改过的标题"), encoding="utf-8")
    past = time.time() - 30  # not "racy" (index.RACY_NS): once read, trusted
    os.utime(path, (past, past))
    mended = spy_mend(monkeypatch)
    for format in ("table", "json"):
        text = fast_text(store, now, format)
        assert "改过的标题" in text[1] and text == slow_text(store, now, format)
    assert mended == [True]  # the table's: the JSON came after the index was up to date


@pytest.mark.parametrize("format", ["table", "json"])
@pytest.mark.parametrize("change", ["commit", "remove", "add", "wider owner", "new past event", "two at once"])
def test_what_changed_is_mended_in_or_asked_again(cli, desk, monkeypatch, format, change):
    store, ids, now = desk
    repo = cli.repo
    if change == "commit":  # cslog's own: HEAD moves
        cli.ok("assign", ids[3], "小赵")
    elif change == "remove":
        path_of(repo, ids[0]).unlink()
    elif change == "add":  # a file made by hand, untracked: found through its folder's mtime
        source = path_of(repo, ids[2])
        source.with_name("CW202611229999.yaml").write_text(
            source.read_text(encoding="utf-8").replace(ids[2], "CW202611229999"), encoding="utf-8")
    elif change == "wider owner":  # the owner column widens: the lines' padding changes
        cli.ok("assign", ids[1], "欧阳大名鼎鼎先生")  # 16 wide: wider than the header
    elif change == "new past event":  # its last event after `now`: computed on the spot, not from the index
        cli.ok("note", ids[4], "下周再跟进", env={"CSLOG_NOW": "2026-11-24T09:00:00+08:00"})
    else:
        cli.ok("reply", ids[0], "已处理")
        path = path_of(repo, ids[5])
        path.write_text(path.read_text(encoding="utf-8").replace("第5张工单", "第五张"), encoding="utf-8")
    mended = spy_mend(monkeypatch)
    assert fast_text(store, now, format) == slow_text(store, now, format)
    if change == "wider owner" and format == "table":
        assert mended == [False]
    else:
        assert mended == [True]


@pytest.mark.parametrize("seed", range(4))
def test_any_sequence_of_changes_prints_as_rendering_the_rows(cli, desk, seed, monkeypatch):
    """Random edits by hand, cslog commands, files added and removed, with the listing mended (or asked
    again) in between: the text is always what rendering the rows gives."""
    import random

    store, ids, now = desk
    mended = spy_mend(monkeypatch)
    repo = cli.repo
    rng = random.Random(seed)
    owners = ["小王", "欧阳大名鼎鼎先生", "Li", "", "司马"]
    for step in range(10):
        live = [t for t in ids if any(repo.glob(f"tickets/*/*/{t}.yaml"))]
        action = rng.choice(["title", "owner", "remove", "add", "reply", "resolve", "new"])
        if action == "title" and live:
            path = path_of(repo, rng.choice(live))
            text = path.read_text(encoding="utf-8")
            head, _, rest = text.partition("\ntitle: ")
            path.write_text(f"{head}\ntitle: {'长' * rng.randrange(0, 30)}第{step}\n{rest.partition(chr(10))[2]}",
                            encoding="utf-8")
        elif action == "owner" and live:
            owner = rng.choice(owners)
            if owner:
                cli.ok("assign", rng.choice(live), owner)
        elif action == "remove" and len(live) > 1:
            path_of(repo, live.pop(rng.randrange(len(live)))).unlink()
        elif action == "add" and live:
            source = path_of(repo, rng.choice(live))
            new = f"CW2026112{step:02d}{rng.randrange(10**4):04d}"[:14]
            source.with_name(f"{new}.yaml").write_text(
                source.read_text(encoding="utf-8").replace(source.stem, new), encoding="utf-8")
            ids.append(new)
        elif action == "reply" and live:
            cli.ok("reply", rng.choice(live), f"回复{step}")
        elif action == "resolve" and live:
            cli("status", rng.choice(live), "resolved", "--solution", "已处理")  # refused for some: fine
        elif action == "new":
            ids.append(cli.ok(*TICKET_ARGS, "--received-at", f"2026-11-2{rng.randrange(3)}T1{rng.randrange(8)}:00"))
        if rng.random() < 0.5:
            aged(repo)
        for format in ("table", "json"):
            assert fast_text(store, now, format) == slow_text(store, now, format), (seed, step, action, format)
    assert True in mended


# -- found in review ------------------------------------------------------------------------------------

def test_a_file_gone_since_the_index_looked_is_not_an_error(cli, desk):
    """The question is asked of the index as it was while git looks: a ticket it must read from its file
    (no JSON copy, and its clocks computed at `--at`) may be gone by then; git's answer says so, and the
    question is asked again of the files as they are."""
    store, ids, _now = desk
    cli.ok("note", ids[1], "later", env={"CSLOG_NOW": "2026-11-24T09:00:00+08:00"})  # a leftover at --at
    path = path_of(cli.repo, ids[1])
    path.write_text(path.read_text(encoding="utf-8") + "x_score: .nan\n", encoding="utf-8")  # JSON cannot hold it
    aged(cli.repo)
    Index.open(store).close()
    path.unlink()
    result = cli("overdue", "--at", "2026-11-23T18:00:00+08:00", "--format", "json")
    assert result.exit_code == 1, result.stderr
    assert ids[1] not in result.stdout and ids[0] in result.stdout


def test_dues_to_the_fraction_of_a_second_come_in_the_same_order_both_ways(cli, customer):
    """Tickets received in the same second (one of them computed on the spot): by due to the microsecond."""
    ids = [cli.ok(*TICKET_ARGS[:3], customer, *TICKET_ARGS[4:], "--received-at", "2026-11-20T09:00:00+08:00")
           for _ in range(3)]
    for tid, fraction in ((ids[0], ".7"), (ids[1], ".2")):
        path = path_of(cli.repo, tid)
        path.write_text(path.read_text(encoding="utf-8").replace(
            "2026-11-20T09:00:00+08:00", f"2026-11-20T09:00:00{fraction}+08:00"), encoding="utf-8")
    cli.ok("note", ids[2], "later", env={"CSLOG_NOW": "2026-11-24T09:00:00+08:00"})  # computed on the spot
    store = Store.discover(cli.repo)
    Index.open(store).close()
    now = parse_time("2026-11-23T18:00:00+08:00", store.settings.tz)
    for format in ("json", "table"):
        assert fast_text(store, now, format) == slow_text(store, now, format)


def test_overdue_prints_to_a_stdout_that_takes_text_only(cli, ticket, monkeypatch):
    import contextlib
    import io
    import sys

    from cslog.cli import main

    out = io.StringIO()
    monkeypatch.setattr(sys, "argv", ["cslog", "-C", str(cli.repo), "overdue", "--at", "2026-12-31T18:00:00+08:00",
                                      "--format", "json"])
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as done:
        main()
    assert done.value.code == 1 and json.loads(out.getvalue())[0]["id"] == ticket
