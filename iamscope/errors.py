"""The one exception hierarchy of iamscope. Each error carries the exit code the CLI returns for it,
so no command has to decide that for itself and no traceback ever reaches a user."""

from __future__ import annotations


class IamscopeError(Exception):
    """Base of every error iamscope raises on purpose. `str(error)` is the one line a user sees."""

    exit_code: int = 2


class UsageError(IamscopeError):
    """The command line asks for something that cannot be done (bad option combination, missing path)."""

    exit_code = 2


class InputError(IamscopeError):
    """An input file or object is malformed. The message names the file and the place in it."""

    exit_code = 2

    def __init__(self, message: str, *, source: str | None = None, where: str | None = None) -> None:
        self.source = source
        self.where = where
        prefix = ": ".join(part for part in (source, where) if part)
        super().__init__(f"{prefix}: {message}" if prefix else message)


class PolicyError(InputError):
    """An IAM policy document is malformed; `where` names the statement (index and Sid)."""


class ArnError(InputError):
    """A string that must be an ARN is not one."""


class NotImplementedYetError(IamscopeError):
    """A command of the contract whose implementation has not landed yet."""

    exit_code = 2


class IncompleteInputError(IamscopeError):
    """Part of the data could not be read; a result built from the rest must not pass as clean."""

    exit_code = 3
