"""Results as text: text (tables, JSON, CSV), record (show, list, history), overdue; the CLI prints what these make."""

