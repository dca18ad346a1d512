"""Files replaced whole: a reader (or a crash) sees the old content or the new, never half of either."""

import os
from pathlib import Path
from typing import Union

OWNER_ONLY = 0o600  # workspaces name private registries and repositories


def replace_file(path: Path, content: Union[str, bytes], durable: bool = False, mode: int = OWNER_ONLY,
                 temporary_suffix: str = "tmp") -> Path:
    """Write `content` beside `path` and rename it over `path`. `durable`: on disk before the rename (fsync),
    for files a rerun trusts after a power loss. The temporary name is per process (`temporary_suffix` and
    the pid), so two processes replacing one file never write into each other's temporary."""
    data = content.encode() if isinstance(content, str) else content
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{temporary_suffix}")
    fd = os.open(str(temporary), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        if durable:
            handle.flush()
            os.fsync(handle.fileno())
    os.replace(temporary, path)
    return path
