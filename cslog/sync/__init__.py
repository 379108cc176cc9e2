"""Teams with several clones: the git setup (merge driver, .gitattributes, pre-commit hook), the merge driver, and sync.

`setup` sets a clone up; `driver` is what git calls for each record file both sides changed;
`sync` is the `cslog sync` loop (fetch, renumber, merge, check, push); `merge` is the pure
three-way merge of one record that the driver and sync rely on.
"""
from cslog.sync.driver import kind_of_path, run_driver
from cslog.sync.setup import install_driver, setup_git, write_attributes
from cslog.sync.sync import sync

__all__ = ["install_driver", "kind_of_path", "run_driver", "setup_git", "sync", "write_attributes"]
