"""Files replaced whole: a reader (or a crash) sees the old content or the new, never half of either."""

import os
from pathlib import Path
from typing import Union

OWNER_ONLY = 0o600  # workspaces name private registries and repositories
UMASK_DECIDES = 0o666  # as skopeo writes an OCI layout, and shipments that travel to other hosts


def replace_file(path: Path, content: Union[str, bytes], durable: bool = False, mode: int = OWNER_ONLY,
                 suffix: str = "tmp") -> Path:
    """Write `content` to `.NAME.SUFFIX` beside `path` and rename it over `path`. `durable`: on disk before the
    rename (fsync), for files a rerun trusts after a power loss. The temporary's name is fixed, so one a crash
    left is overwritten next time; where processes share a directory (the store), `suffix` carries the pid."""
    data = content.encode() if isinstance(content, str) else content
    temporary = path.with_name(f".{path.name}.{suffix}")
    fd = os.open(str(temporary), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        if durable:
            handle.flush()
            os.fsync(handle.fileno())
    os.replace(temporary, path)
    return path
