"""Where each attempt's raw output goes, and ``--output-file``'s final content.

With ``output_file=X`` every attempt writes its own ``X.attempt-N.SUFFIX``
beside X (``out.jsonl`` -> ``out.attempt-1.jsonl``), and when the run ends X
becomes the winning attempt's output (the last attempt's when every one
failed): a hard link to that file, or a copy where links are not possible,
made under a temporary name in X's folder and renamed over X, so a reader
sees the old X or the complete new one, never a half-written file. Without
``output_file`` each run gets its own folder (``runner.output_dir`` or the
temporary directory) holding ``attempt-N-PROVIDER.jsonl`` files; so does a
run whose ``output_file`` is not a regular file (``/dev/stdout``, a FIFO):
its attempts' files go to the run folder and X receives the winner's bytes,
written into it (a device cannot be renamed over). A symlinked X stays a
symlink: its target is replaced.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from tacroute.errors import TacrouteError
from tacroute.runner.settings import RunnerSettings

__all__ = ["attempt_output_file", "attempts_beside", "publish_output", "run_folder"]


def attempts_beside(output_file: str | Path | None) -> bool:
    """Whether attempts write beside ``output_file`` (it is a regular file, or not there yet)."""
    if output_file is None:
        return False
    try:
        return Path(output_file).is_file() or not Path(output_file).exists()
    except OSError:
        return True


def attempt_output_file(output_file: str | Path | None, number: int, provider: str,
                        folder: Path | None) -> Path:
    """Where attempt ``number`` writes its raw output."""
    if output_file is None:
        assert folder is not None
        safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in provider)
        return folder / f"attempt-{number}-{safe}.jsonl"
    path = Path(output_file)
    return path.with_name(f"{path.stem}.attempt-{number}{path.suffix}")


def publish_output(source: str | None, output_file: str | Path) -> str | None:
    """Make ``output_file`` the content of ``source`` (an attempt's file), atomically.

    Returns a problem to report (the attempt's own file is still there), or None.
    """
    if source is None or not os.path.exists(source):
        return "no attempt wrote an output file"
    import shutil  # only here: with bz2, lzma and zlib it is ~3 ms of every run's start

    target = Path(os.path.realpath(output_file))
    if target.exists() and not target.is_file():
        try:
            with open(source, "rb") as src, open(target, "wb") as dst:
                shutil.copyfileobj(src, dst)
        except OSError as exc:
            return f"cannot write the output file {str(output_file)!r}: {exc.strerror or exc}"
        return None
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{os.urandom(3).hex()}.tmp")
    try:
        try:
            os.link(source, tmp)
        except OSError:  # no hard links here (some file systems): a copy, fsynced
            shutil.copyfile(source, tmp)
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        return f"cannot write the output file {str(target)!r}: {exc.strerror or exc}"
    return None


def run_folder(settings: RunnerSettings, run_id: str) -> Path:
    """A fresh folder for one run's attempt files."""
    if settings.output_dir is not None:
        base = settings.output_dir
    else:
        import tempfile

        base = Path(tempfile.gettempdir()) / "tacroute-runs"
    folder = base / run_id
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise TacrouteError(f"cannot create the run folder {str(folder)!r} (runner.output_dir, or "
                            f"the temporary directory): {exc.strerror or exc}") from exc
    return folder
