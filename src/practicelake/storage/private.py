"""Files and folders only their owner can read: 0600 and 0700, whatever the umask says.

practicelake names the mode wherever it creates a file or folder itself. What its libraries
create (pyiceberg's and pyarrow's data, manifest and metadata files, SQLite's catalog
journals, DuckDB's spill files) takes its mode from the process umask, which
`restrict_umask` tightens to 0o077 once, when a lakehouse is opened.

The trade-off: the umask belongs to the whole process, not to the lakehouse. Once it is
tightened, everything the process creates afterwards is owner-only too, a BI export or a
query's output file included; an operator who wants to share one gives it to the group
with chmod. The other way, a umask set around each library write, is not safe while other
threads create files, and would still miss the writes done from threads of the libraries.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

PRIVATE_UMASK = 0o077
FILE_MODE = 0o600
FOLDER_MODE = 0o700


def restrict_umask() -> None:
    """Take group and other permissions off everything this process creates from now on;
    bits already taken off stay off."""
    os.umask(os.umask(PRIVATE_UMASK) | PRIVATE_UMASK)


def private_folder(path: Path) -> Path:
    """`path` as a folder, each level created here 0700; folders that exist keep their mode."""
    missing = []
    folder = path
    while True:
        try:
            mode = folder.stat().st_mode  # one look: a folder made meanwhile is not taken for a file
        except FileNotFoundError:
            pass
        else:
            if stat.S_ISDIR(mode):
                break
            raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(folder))  # a file there
        missing.append(folder)
        if folder.parent == folder:
            break
        folder = folder.parent
    for level in reversed(missing):
        try:
            level.mkdir(mode=FOLDER_MODE)
        except FileExistsError:
            if not level.is_dir():
                raise
            continue  # created by another writer in the meantime
        os.chmod(level, FOLDER_MODE)  # mkdir's mode is cut by the umask: set it as it is meant
    return path


def create_private_file(path: Path, *, exclusive: bool = True) -> int:
    """A file descriptor open for writing on `path`, created 0600 (its folder 0700). With
    `exclusive`, FileExistsError if the file exists; otherwise an existing file is opened
    as it is, neither truncated nor given another mode."""
    private_folder(path.parent)
    flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | (os.O_EXCL if exclusive else 0)
    return os.open(path, flags, FILE_MODE)
