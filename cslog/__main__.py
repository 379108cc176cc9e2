"""python -m cslog. git's merge driver (`-m cslog merge-driver %O %A %B %P`, once per merged record file)
takes a fast path that skips building the whole command line."""
import sys


def _merge_driver(base: str, ours: str, theirs: str, path: str) -> int:
    from pathlib import Path

    from cslog.errors import CslogError
    from cslog.sync import run_driver

    try:
        outcome = run_driver(Path(base), Path(ours), Path(theirs), path)
    except CslogError as exc:  # same words as the command; git sees a failed merge and keeps ours
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    for message in outcome.messages:
        print(message, file=sys.stderr)
    return outcome.exit_code


if len(sys.argv) == 6 and sys.argv[1] == "merge-driver":
    sys.exit(_merge_driver(*sys.argv[2:]))

from cslog.cli import main  # noqa: E402

main()
