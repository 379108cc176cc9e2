"""A disposable cache of the record files in .cslog/index.sqlite, so that reading commands stay fast on years of
data: key (what it depends on), scan (what changed on disk), tables (what it holds of a file), queries (the
Index and what commands ask it). Files stay the truth: delete .cslog/ at any time."""
from cslog.index.queries import Changes, Index, Leftover, rebuild

__all__ = ["Changes", "Index", "Leftover", "rebuild"]
