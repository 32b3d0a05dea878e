# Copyright (c) mmvmt contributors.
"""One clear line and exit code 2 for bad input, from every CLI.

Errors caused by what a user gave a command (a file that is missing,
malformed, truncated or unsafe, a config key that does not exist, a video
that cannot be decoded, an output that cannot be written) derive from
:class:`UserInputError`. :func:`run_cli` runs a command's ``main`` and turns
those (and the ``SystemExit('error: ...')`` messages of the tools) into one
``error: ...`` line on stderr and exit code 2; anything else is a bug and
keeps its traceback. Torch-free.
"""
import json
import sys
from typing import Callable, Optional

EXIT_BAD_INPUT = 2


class UserInputError(Exception):
    """Base of the errors that a CLI reports as one line (exit code 2)."""


class CLIError(UserInputError, ValueError):
    """A bad command line, config or checkpoint choice, with the reason."""


def one_line(err: BaseException) -> str:
    """The message of ``err`` as one line.

    An exception re-raised by a ``DataLoader`` worker carries the worker's
    whole traceback in its message; only the original message (its last
    line, without the ``module.Class:`` prefix) is kept.

    Args:
        err (BaseException): The error.

    Returns:
        str: The message, never empty (the error's type name at least).
    """
    msg = str(err).strip()
    if 'Original Traceback' in msg:
        last = msg.splitlines()[-1].strip()
        head, sep, rest = last.partition(': ')
        msg = rest if sep and ' ' not in head else last
    msg = ' '.join(msg.split())
    if msg.startswith('error: '):
        msg = msg[len('error: '):]
    return msg or type(err).__name__


def _known(err: BaseException) -> bool:
    return isinstance(err, (UserInputError, FileNotFoundError,
                            json.JSONDecodeError))


def run_cli(main: Callable[[], Optional[int]]) -> int:
    """Run ``main()`` and map bad input to one line and exit code 2.

    Args:
        main (Callable): The command; returns an exit code or None (0).

    Returns:
        int: The exit code to pass to ``sys.exit``.
    """
    try:
        code = main()
    except SystemExit as err:
        if isinstance(err.code, str):  # raise SystemExit('error: ...')
            print(f'error: {one_line(err)}', file=sys.stderr)
            return EXIT_BAD_INPUT
        raise
    except Exception as err:  # noqa: BLE001 (only known types are mapped)
        if not _known(err):
            raise
        print(f'error: {one_line(err)}', file=sys.stderr)
        return EXIT_BAD_INPUT
    return 0 if code is None else int(code)
