"""Commands besides `run` and `delete`, one module each (`list releases`, `list operators`, `describe`, `merge`),
registered in skomirror.cli, and what they share: the options they have in common with `run` (options.py) and
their two ways of printing (printing.py)."""
