"""Commands beside run and delete, each its own module (registered in skomirror.cli)."""
