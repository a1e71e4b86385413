"""Typed errors the command line turns into one clear message instead of a traceback."""


class CourseError(Exception):
    """Something the user can fix: a wrong path, an unknown chapter, a malformed notebook."""


class UnknownChapterError(CourseError):
    """The chapter named on the command line has no folder in ``source/``."""


class NotInSyncError(CourseError):
    """The committed student notebooks differ from a fresh release of ``source/``."""
