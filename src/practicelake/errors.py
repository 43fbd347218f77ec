"""Errors practicelake raises on purpose. Each says whether trying again can help."""


class PracticelakeError(Exception):
    """A problem the user can fix (bad input, bad settings): shown as one line, no traceback."""

    transient = False


class SettingsError(PracticelakeError):
    """The settings are incomplete or contradict each other."""


class StorageError(PracticelakeError):
    """An object could not be read or written."""


class IntegrityError(StorageError):
    """An object's bytes do not match the hash it was stored under."""


class MalformedFileError(PracticelakeError):
    """A raw file cannot be read as the dataset it claims to be."""


class UnknownPracticeError(PracticelakeError):
    """The practice is not configured."""


class LockedError(PracticelakeError):
    """Another transform holds the lock."""

    transient = True
