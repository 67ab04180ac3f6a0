"""`levelreplay` command line (typer). Thin: parse, call a function, print.

Every command leaves through ``_guarded``: an error of the one hierarchy (``common/errors.py``)
prints one paragraph and exits with its own code (2 user error, 1 failed check); a traceback only
ever means a bug in levelreplay.
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

_interrupted: list[bool] = []


def _on_sigint(signum: int, frame: FrameType | None) -> None:
    """Python's own Ctrl-C behaviour, remembered: a C extension interrupted while it loads
    (pandas, pyarrow) turns the KeyboardInterrupt into an ImportError or a half-made module, and
    whatever follows must still be reported as the interrupt it was."""
    _interrupted.append(True)
    raise KeyboardInterrupt


def _quiet_unraisable(unraisable: Any) -> None:
    """After Ctrl-C, what Python cannot propagate is reported once, by the exit path, not as an
    'Exception ignored' trace: the interrupt itself landing in a callback (numba's LLVM hooks
    during a compile), and finalizers failing at shutdown on objects it left half made
    (llvmlite's ``ObjectRef.__del__`` on a reference whose construction it cut short)."""
    if _interrupted:
        return
    sys.__unraisablehook__(unraisable)


if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
    sys.unraisablehook = _quiet_unraisable
    with contextlib.suppress(ValueError):  # imported off the main thread: leave Python's
        signal.signal(signal.SIGINT, _on_sigint)

try:  # Ctrl-C while the libraries load: nothing was written yet, and no traceback
    import typer

    from replay.common.errors import LevelReplayError
except BaseException as exc:
    if not (_interrupted or isinstance(exc, KeyboardInterrupt)):
        raise
    sys.stderr.write("interrupted while starting: nothing was written\n")
    raise SystemExit(130) from None

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Deterministic replay of ES break/reject level signals from Databento GLBX.MDP3 data.",
)

config_app = typer.Typer(no_args_is_help=True, help="Engine configuration.")

app.add_typer(config_app, name="config")

DEFAULT_SAMPLE_DIR = Path("data/sample")

DEFAULT_LAKE = Path("data/lake")


def _explained(command: Callable[..., None], *args: Any, **kwargs: Any) -> None:
    """Run ``command``; an error of the hierarchy or of the environment becomes its paragraph."""
    try:
        command(*args, **kwargs)
    except LevelReplayError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(exc.exit_code) from None
    except BrokenPipeError:  # `levelreplay info | head`: the reader left; say nothing more
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise typer.Exit(141) from None  # 128 + SIGPIPE, as a shell pipeline reports it
    except OSError as exc:  # the environment: a path of the wrong kind, a full disk, EROFS
        where = f"{exc.filename}: " if exc.filename else ""
        typer.echo(
            f"error: {where}{exc.strerror or exc} (expected a path that exists, of the "
            "right kind (file or directory), on a writable filesystem with free space; "
            "nothing half-written was left in place)",
            err=True,
        )
        raise typer.Exit(2) from None


def _guarded(command: Callable[..., None]) -> Callable[..., None]:
    """The one exit path of every command: a ``LevelReplayError`` prints its one paragraph and
    exits with its own code (1 check failed, 2 user error, 3 internal); no traceback."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> None:
        try:
            _explained(command, *args, **kwargs)
        except BaseException as exc:
            if not (_interrupted or isinstance(exc, KeyboardInterrupt)):
                raise
            _say_interrupted()  # whatever the interrupt became on its way up
            raise typer.Exit(130) from None

    return run


def demo(
    sample_dir: Annotated[Path, typer.Option(help="the embedded sample session")] = Path(
        "data/sample"
    ),
    out: Annotated[Path, typer.Option(help="where the demo lake and outputs go")] = Path(
        "data/demo"
    ),
) -> None:
    """The whole tool on the embedded sample: generate it if missing → ingest → replay twice
    (Bronze, then Silver in other chunks) → verify byte-identical Gold → summary → PNG."""
    from replay.demo import run_demo

    run_demo(sample_dir, out)


def _register() -> None:
    """Every command, in ``--help`` order, through the one exit path; each one's options and body
    live in the room that owns its work."""
    from replay.gold import commands as gold
    from replay.labels import commands as labels
    from replay.lake import commands as lake
    from replay.live import commands as live
    from replay.nightly import commands as nightly
    from replay.run import commands as run
    from replay.sample import command as sample

    for fn in (
        lake.ingest,
        lake.silver,
        sample.sample,
        run.replay,
        nightly.verify,
        nightly.regress,
        labels.label,
        labels.report,
        gold.summary,
        gold.plot,
        live.publish,
        live.live,
        run.info,
        demo,
    ):
        app.command()(_guarded(fn))
    config_app.command("show")(_guarded(run.config_show))


try:  # Ctrl-C while the commands register: nothing was written yet, and no traceback
    _register()
except BaseException as exc:
    if not (_interrupted or isinstance(exc, KeyboardInterrupt)):
        raise
    sys.stderr.write("interrupted while starting: nothing was written\n")
    raise SystemExit(130) from None


_interrupt_said: list[bool] = []


def _say_interrupted() -> None:
    """One line on Ctrl-C, once (typer turns an interrupt outside a command into a silent 130)."""
    if not _interrupt_said:
        _interrupt_said.append(True)
        typer.echo(
            "interrupted: every session, partition or file reported above as written is "
            "complete; the one in progress was not committed (its temp file is removed by "
            "the next run)",
            err=True,
        )


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except SystemExit as exc:
        if exc.code == 130 or _interrupted:
            _say_interrupted()
            sys.exit(130)
        raise
    except BaseException as exc:
        if _interrupted or isinstance(exc, KeyboardInterrupt):
            _say_interrupted()
            sys.exit(130)
        raise


if __name__ == "__main__":
    main()
