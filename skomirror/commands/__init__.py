"""Commands besides `run`, one module each (`list releases`, `list operators`, `describe`), and what they share:
the options they have in common with `run` (options.py) and their two ways of printing (printing.py)."""
