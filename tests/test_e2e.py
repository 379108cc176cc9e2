"""End to end: the installed `cslog` in subprocesses, a wheel in a fresh venv, parallel writers."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

from conftest import PROJECT, TICKET, cslog_bin, commit_count, git


def run(args, cwd, env=None, check=True, cmd=None):
    full = dict(os.environ)
    full.update(env or {})
    proc = subprocess.run((cmd or cslog_bin()) + args, cwd=cwd, env=full, capture_output=True, text=True)
    if check:
        assert proc.returncode == 0, f"{args}: {proc.returncode}\n{proc.stderr}"
    return proc


def test_twelve_parallel_new_tickets(repo):
    run(["new", "customer", "--name", "A公司"], repo)
    base = commit_count(repo)
    procs = [subprocess.Popen(cslog_bin() + TICKET + ["--customer", "C0001"], cwd=repo, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(12)]
    ids = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        ids.append(out.strip())
    assert len(set(ids)) == 12
    assert sorted(ids) == [f"CW20261122{n:04d}" for n in range(1, 13)]
    assert len(list((repo / "tickets/2026/11").glob("*.yaml"))) == 12
    assert commit_count(repo) == base + 12
    assert git(repo, "status", "--porcelain") == ""


def test_written_files_pass_check_jsonschema(repo, tmp_path):
    exe = Path(sys.executable).parent / "check-jsonschema"
    if not exe.exists():
        pytest.skip("check-jsonschema is not installed (pip install '.[test]')")
    run(["new", "customer", "--name", "王先生", "--phone", "13812345678", "--email", "wang@example.com"], repo)
    run(TICKET + ["--customer", "C0001", "--category", "技术故障-登录", "--tag", "登录", "--owner", "小明",
                  "--expectation", "今天恢复", "--emotion", "焦虑", "--occurred-at", "2026-11-22 09:00"], repo)
    run(["new", "--customer", "C0001", "--channel", "phone", "--request", "换货", "--agreed", "三天内寄出",
         "--emotion-before", "焦虑", "--emotion-after", "平和", "--open-ticket", "--type", "投诉", "--priority",
         "重要", "--title", "手环换货"], repo)
    # what the desk writes (design 9.4): changed events, new fields, attachments, follow-ups
    run(["set", "CW202611220001", "planned_at=2026-11-25 18:00", "remarks=老客户", "involved=张工", "caveats=先备份",
         "priority=重要", "tags+=账号"], repo)
    run(["set", "C0001", "contact_person=王经理", "phone=13912345678", "type=vip"], repo)
    photo = tmp_path / "截图.png"
    photo.write_bytes(b"\x89PNG\r\n")
    run(["attach", "CW202611220001", str(photo), "--note", "客户提供"], repo)
    run(["new", "--customer", "C0001", "--channel", "phone", "--request", "回电", "--result", "已解释",
         "--follow-up", "明早回电", "--follow-up-at", "2026-11-23 09:00"], repo)
    run(["set", "GT202611220002", "details=补充"], repo)
    run(["followed", "GT202611220002", "--note", "已回电"], repo)
    for kind, pattern in (("ticket", "tickets/*/*/*.yaml"), ("contact", "contacts/*/*/*.yaml"),
                          ("customer", "customers/*.yaml")):
        files = sorted(str(p) for p in repo.glob(pattern))
        assert files
        proc = subprocess.run([str(exe), "--schemafile", str(repo / f"schemas/{kind}.schema.json"), *files],
                              capture_output=True, text=True)
        assert proc.returncode == 0, proc.stdout + proc.stderr


def test_no_traceback_from_the_installed_command(tmp_path):
    proc = run(["show", "CW1"], tmp_path, check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and "no cslog repository" in proc.stderr


@pytest.mark.slow
def test_wheel_installs_and_works_outside_the_source_tree(tmp_path):
    """Build the wheel, install it into a fresh venv, and run init/new/check from elsewhere."""
    dist = tmp_path / "dist"
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(PROJECT)]
    try:
        import hatchling  # noqa: F401

        build.insert(4, "--no-build-isolation")
    except ImportError:
        pass
    proc = subprocess.run(build, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    wheel = next(dist.glob("cslog-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "cslog/schemas/ticket.schema.json" in names and "cslog/templates/ticket.yaml" in names
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    target = next((env_dir / "lib").glob("python3*/site-packages"))
    with zipfile.ZipFile(wheel) as zf:  # what `pip install --no-deps` does for a pure wheel
        zf.extractall(target)
    # Dependencies come from the test environment's site-packages, after the venv's own.
    deps = [p for p in sys.path if p.endswith("site-packages")]
    (target / "zz_deps.pth").write_text("\n".join(deps) + "\n")
    python = env_dir / "bin" / "python"
    work = tmp_path / "elsewhere"
    work.mkdir()
    cmd = [str(python), "-c", "import sys; from cslog.cli import main; sys.argv[0] = 'cslog'; main()"]
    where = subprocess.run([str(python), "-c", "import cslog; print(cslog.__file__)"], cwd=work,
                           capture_output=True, text=True).stdout
    assert str(target) in where, where
    run(["init", "desk", "--org", "示例科技有限公司"], work, cmd=cmd)
    desk = work / "desk"
    assert (desk / "schemas/ticket.schema.json").exists()
    run(["new", "customer", "--name", "A公司"], desk, cmd=cmd)
    run(TICKET + ["--customer", "C0001"], desk, cmd=cmd)
    editor = tmp_path / "ed.py"
    editor.write_text("import sys,pathlib; p=pathlib.Path(sys.argv[1]); t=p.read_text(encoding='utf-8');"
                      "assert '新客户档案' in t; p.write_text('name: 模板客户\\n', encoding='utf-8')\n")
    run(["new", "customer", "--edit"], desk, env={"EDITOR": f"{sys.executable} {editor}"}, cmd=cmd)
    run(["check"], desk, cmd=cmd)
