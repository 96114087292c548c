"""Writing output files without ever following a symbolic link.

Every file canarykit writes — release folders, manifests, notes, model cards, verdicts, signed
envelopes, reports, audit exports, state files — goes through :func:`write_file` (or, for a
whole folder written once, :func:`publish_folder`):

- the folder the file goes into is opened with ``O_NOFOLLOW`` (a folder that is a symbolic link
  is refused: a link planted there could point anywhere, e.g. at ``/etc``), and every later
  step works relative to that open folder, so swapping the folder for a link midway changes
  nothing;
- a file that is a symbolic link is refused (never written through, never replaced);
- an existing character device or named pipe (``--out /dev/null``) is written into, never
  replaced (a rename over it would leave a regular file in the device's place); a block
  device or socket is refused;
- the data goes to a new temporary file in the same folder, created with
  ``O_CREAT | O_EXCL | O_NOFOLLOW`` (it cannot be a planted file or link), is ``fsync``-ed and
  renamed over the target atomically: a reader sees the old file or the new one, never half of
  one, and a crash leaves the old file intact.

A refusal is an :class:`~canarykit.errors.InvalidInputError` (exit status 2) with one line
naming the path; a failing write is a :class:`~canarykit.errors.StorageError`.

Examples
--------
>>> import tempfile
>>> folder = Path(tempfile.mkdtemp())
>>> write_file(folder / "out.json", '{"ok": true}\\n').read_text()
'{"ok": true}\\n'
>>> (folder / "victim").write_text("keep")
4
>>> (folder / "link.json").symlink_to(folder / "victim")
>>> write_file(folder / "link.json", "overwritten?")
Traceback (most recent call last):
...
canarykit.errors.InvalidInputError: .../link.json: is a symbolic link; canarykit never writes through links (remove it or choose another path)
>>> (folder / "victim").read_text()
'keep'
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from collections.abc import Iterator, Mapping
from pathlib import Path

from canarykit.errors import InvalidInputError, StorageError

__all__ = ["check_output_path", "publish_folder", "write_file"]

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)


def _link_error(path: Path | str) -> InvalidInputError:
    return InvalidInputError(
        f"{path}: is a symbolic link; canarykit never writes through links"
        " (remove it or choose another path)"
    )


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _make_parents(folder: Path) -> None:
    """Create the missing folders of ``folder`` (never through a link at any level it creates)."""
    missing: list[Path] = []
    current = folder
    while not os.path.lexists(current):
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for path in reversed(missing):
        try:
            os.mkdir(path)
        except FileExistsError:
            pass  # created meanwhile by someone else: checked when opened below
        except OSError as err:
            raise StorageError(
                f"{path}: cannot create the folder ({err.strerror or type(err).__name__})"
            ) from None


@contextlib.contextmanager
def _open_folder(folder: Path) -> Iterator[int]:
    """The folder, opened without following a link (``O_NOFOLLOW | O_DIRECTORY``)."""
    try:
        if folder.is_symlink():
            raise _link_error(folder)
        fd = os.open(folder, os.O_RDONLY | _DIRECTORY | _NOFOLLOW)
    except InvalidInputError:
        raise
    except OSError as err:
        if err.errno == errno.ELOOP:
            raise _link_error(folder) from None
        if err.errno == errno.ENOTDIR:
            raise InvalidInputError(f"{folder}: is not a folder") from None
        raise StorageError(
            f"{folder}: cannot open the folder ({err.strerror or type(err).__name__})"
        ) from None
    try:
        yield fd
    finally:
        os.close(fd)


def _check_target(name: str, dir_fd: int, shown: Path) -> bool:
    """Refuse a target that is a link, a folder or a block device (never follow, never replace
    any); ``True`` when it is a character device or a named pipe, written into in place."""
    try:
        st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return False
    if stat.S_ISLNK(st.st_mode):
        raise _link_error(shown)
    if stat.S_ISDIR(st.st_mode):
        raise InvalidInputError(f"{shown}: is a folder; cannot write a file there")
    if stat.S_ISCHR(st.st_mode) or stat.S_ISFIFO(st.st_mode):
        return True
    if not stat.S_ISREG(st.st_mode):
        raise InvalidInputError(
            f"{shown}: is not a regular file (a device or socket); canarykit writes only files, "
            "character devices such as /dev/null and named pipes"
        )
    return False


def _write_all(fd: int, data: bytes) -> None:
    """Write every byte of ``data`` to ``fd`` (``os.write`` may write less than asked)."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _write_special(name: str, data: bytes, dir_fd: int, shown: str) -> None:
    """Write ``data`` into an existing character device or named pipe (never replace it: a
    rename over ``/dev/null`` would leave a regular file in its place)."""
    try:
        fd = os.open(name, os.O_WRONLY | _NOFOLLOW, dir_fd=dir_fd)
        try:
            _write_all(fd, data)
        finally:
            os.close(fd)
    except OSError as err:
        raise StorageError(
            f"{shown}: cannot write ({err.strerror or type(err).__name__})"
        ) from None


def _write_new(name: str, data: bytes, dir_fd: int, mode: int) -> None:
    """Create ``name`` (exclusive, no link followed) in the open folder, write, fsync."""
    fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, mode, dir_fd=dir_fd)
    try:
        os.fchmod(fd, mode)  # the mode asked for, whatever the umask did to O_CREAT's
        _write_all(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def check_output_path(path: str | Path, *, what: str | None = None) -> None:
    """Refuse now, before any work is done, a file :func:`write_file` would refuse later.

    A command that records something (a verdict in the store's log, a rollout look) and only
    then writes its output file must not fail at the end with its record already made: it
    checks the path first. Nothing is created. ``"-"`` (stdout) passes.

    Raises
    ------
    InvalidInputError
        ``path`` or an existing folder on its way is a symbolic link, ``path`` is a folder or a
        block device or socket, or an existing part of its folder is a file.
    StorageError
        The nearest existing folder cannot be written.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> check_output_path(folder / "new" / "verdict.json")
    >>> check_output_path(folder, what="--out")
    Traceback (most recent call last):
    ...
    canarykit.errors.InvalidInputError: .../...: is a folder; cannot write a file there
    """
    if str(path) == "-":
        return
    target = Path(path)
    existing = target.parent
    while not os.path.lexists(existing) and existing.parent != existing:
        existing = existing.parent
    if existing == target.parent:
        with _open_folder(existing) as dir_fd:
            _check_target(target.name, dir_fd, target)
        folder = existing
    else:
        if existing.is_symlink():
            raise _link_error(existing)
        if not existing.is_dir():
            raise InvalidInputError(f"{existing}: is not a folder (on the way to {target})")
        folder = existing
    if not os.access(folder, os.W_OK | os.X_OK):
        shown = f"{what} {target}" if what else str(target)
        raise StorageError(f"{shown}: cannot write (no permission to write in {folder})")


def write_file(
    path: str | Path,
    data: bytes | str,
    *,
    what: str | None = None,
    mode: int | None = None,
    exclusive: bool = False,
) -> Path:
    """Write ``data`` to ``path`` atomically, never following a symbolic link.

    Parameters
    ----------
    path : str or Path
        The file. Missing parent folders are created.
    data : bytes or str
        The content (``str`` is written as UTF-8).
    what : str, optional
        What the file is (``"--out"``, ``"audit export"``), named in errors.
    mode : int, optional
        Permission bits of the file; default the mode any new file gets (``0o666`` less the
        umask).
    exclusive : bool, default False
        Refuse to replace an existing file (the file is published with a hard link, which
        fails if the name exists).

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    InvalidInputError
        ``path`` or the folder it goes into is a symbolic link, ``path`` is a folder, or (with
        ``exclusive``) it exists already.
    StorageError
        The file cannot be written (one line naming it and the reason).
    """
    target = Path(path)
    shown = f"{what} {target}" if what else str(target)
    payload = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    bits = (0o666 & ~_umask()) if mode is None else mode
    folder = target.parent
    _make_parents(folder)
    with _open_folder(folder) as dir_fd:
        if _check_target(target.name, dir_fd, target):
            if exclusive:
                raise InvalidInputError(f"{shown}: exists already (it is written once)")
            _write_special(target.name, payload, dir_fd, shown)
            return target
        tmp = f".{target.name}.{secrets.token_hex(6)}.tmp"
        try:
            _write_new(tmp, payload, dir_fd, bits)
            if exclusive:
                os.link(tmp, target.name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
            else:
                os.rename(tmp, target.name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
                tmp = ""
            with contextlib.suppress(OSError):
                os.fsync(dir_fd)
        except FileExistsError:
            raise InvalidInputError(f"{shown}: exists already (it is written once)") from None
        except OSError as err:
            raise StorageError(
                f"{shown}: cannot write ({err.strerror or type(err).__name__})"
            ) from None
        finally:
            if tmp:
                with contextlib.suppress(OSError):
                    os.unlink(tmp, dir_fd=dir_fd)
    return target


def publish_folder(out_dir: str | Path, files: Mapping[str, bytes]) -> Path:
    """Write a new folder of ``files`` (relative names, ``/`` for sub-folders) at ``out_dir``.

    The folder is built privately next to ``out_dir`` — every file created exclusively, without
    following links, and fsync-ed — and renamed into place whole: ``out_dir`` must not exist or
    be an empty folder, and neither it nor the folder it goes into may be a symbolic link.
    A failed write leaves nothing behind.

    Raises
    ------
    InvalidInputError
        ``out_dir`` or its parent folder is a symbolic link; a name would leave the folder.
    StorageError
        The folder cannot be written, or ``out_dir`` is in use (not empty).

    Examples
    --------
    >>> import tempfile
    >>> out = Path(tempfile.mkdtemp()) / "release"
    >>> sorted(p.name for p in publish_folder(out, {"a.txt": b"a", "sub/b.txt": b"b"}).rglob("*"))
    ['a.txt', 'b.txt', 'sub']
    """
    target = Path(out_dir)
    for name in files:
        parts = Path(name).parts
        if not parts or Path(name).is_absolute() or any(p in ("..", ".", "") for p in parts):
            raise InvalidInputError(f"{target}: {name!r} is not a file name inside the folder")
    _make_parents(target.parent)
    mode = 0o666 & ~_umask()
    with _open_folder(target.parent) as parent_fd:
        _check_folder_target(target, parent_fd)
        staging = f".{target.name}.{secrets.token_hex(6)}.new"
        os.mkdir(staging, 0o700, dir_fd=parent_fd)
        try:
            with _open_staging(staging, parent_fd) as staging_fd:
                for name, data in sorted(files.items()):
                    _write_into(staging_fd, Path(name).parts, data, mode)
                os.fchmod(staging_fd, 0o777 & ~_umask())  # the mode any new folder gets
                os.fsync(staging_fd)
            os.rename(staging, target.name, src_dir_fd=parent_fd, dst_dir_fd=parent_fd)
            staging = ""
            with contextlib.suppress(OSError):
                os.fsync(parent_fd)
        except OSError as err:
            raise StorageError(
                f"{target}: cannot write ({err.strerror or type(err).__name__}); it must be a"
                " new or empty folder"
            ) from None
        finally:
            if staging:
                _remove_tree(staging, parent_fd)
    return target


def _check_folder_target(target: Path, parent_fd: int) -> None:
    try:
        st = os.stat(target.name, dir_fd=parent_fd, follow_symlinks=False)
    except FileNotFoundError:
        return
    if stat.S_ISLNK(st.st_mode):
        raise _link_error(target)
    if not stat.S_ISDIR(st.st_mode):
        raise InvalidInputError(f"{target}: is a file; a new or empty folder is needed")


@contextlib.contextmanager
def _open_staging(name: str, parent_fd: int) -> Iterator[int]:
    fd = os.open(name, os.O_RDONLY | _DIRECTORY | _NOFOLLOW, dir_fd=parent_fd)
    try:
        yield fd
    finally:
        os.close(fd)


def _write_into(folder_fd: int, parts: tuple[str, ...], data: bytes, mode: int) -> None:
    """Write ``parts`` (sub-folders, then the file name) below an open folder."""
    if len(parts) == 1:
        _write_new(parts[0], data, folder_fd, mode)
        return
    with contextlib.suppress(FileExistsError):
        os.mkdir(parts[0], 0o777, dir_fd=folder_fd)
    sub = os.open(parts[0], os.O_RDONLY | _DIRECTORY | _NOFOLLOW, dir_fd=folder_fd)
    try:
        _write_into(sub, parts[1:], data, mode)
        os.fsync(sub)
    finally:
        os.close(sub)


def _remove_tree(name: str, parent_fd: int) -> None:
    """Remove a private folder this module created (links inside are removed, not followed)."""
    with contextlib.suppress(OSError):
        fd = os.open(name, os.O_RDONLY | _DIRECTORY | _NOFOLLOW, dir_fd=parent_fd)
        try:
            for entry in os.listdir(fd):
                st = os.stat(entry, dir_fd=fd, follow_symlinks=False)
                if stat.S_ISDIR(st.st_mode):
                    _remove_tree(entry, fd)
                else:
                    os.unlink(entry, dir_fd=fd)
        finally:
            os.close(fd)
        os.rmdir(name, dir_fd=parent_fd)
