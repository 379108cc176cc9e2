"""Results as text: text (tables, JSON, CSV), record (show, list, history), overdue; the CLI prints what these make."""

# Transitional, until report and export move into their packages: the names they import from here.
from cslog.render.text import text_width  # noqa: E402,F401


def grid(body, heads, aligns=None):  # noqa: D103
    from cslog.render.text import table

    return table(body, heads, [i for i, a in enumerate(aligns or ()) if a == "right"])
