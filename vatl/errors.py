"""Errors a user can act on. The CLI prints them as one line and exits with code 2.

Library code raises ``ValueError`` (bad values: a file's field, an option, an answer), ``OSError`` and its
subclasses (missing or unreadable files, a folder where a file is expected) or :class:`UserError` (a
state of the world the user must change, such as a run folder in use); every message names the file,
field or request concerned.
"""


class UserError(Exception):
    """A condition the user can fix (not a bad value and not a file system error)."""
