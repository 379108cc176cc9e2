"""cslog's merge driver as git knows it: its name in .gitattributes (`merge=cslog`) and its command in the clone's
.git/config (`cslog merge-driver %O %A %B %P`, run by this very installation)."""
from __future__ import annotations

import shlex
import sys
from pathlib import Path

from cslog import gitrepo

DRIVER = "cslog"


def driver_command() -> str:
    """This very installation, by absolute path: it works from hooks and GUIs that have no PATH."""
    return f"{shlex.quote(sys.executable)} -m cslog merge-driver %O %A %B %P"


def install_driver(root: Path) -> None:
    gitrepo.run(root, "config", f"merge.{DRIVER}.name", "cslog records: fields three-way, timelines united by time")
    gitrepo.run(root, "config", f"merge.{DRIVER}.driver", driver_command())


def ensure_driver(root: Path) -> None:
    """A clone made with a plain `git clone` gets the driver at its first cslog write: a plain `git pull`
    afterwards merges records field by field instead of stopping at conflict markers. (One installed
    already, perhaps by another installation, is left as it is.)"""
    if not gitrepo.config_value(root, f"merge.{DRIVER}.driver"):
        install_driver(root)
