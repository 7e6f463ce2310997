"""What every entry point shares about failing: the user's mistakes and the exit codes."""

EXIT_OK, EXIT_BAD_INPUT = 0, 2
EXIT_SOME_HOSTS_FAILED = 3  # qtui fleet: the other hosts finished and their reports are saved
# 128 + the signal's number, as shells report a process killed by it.
EXIT_HANGUP, EXIT_INTERRUPTED, EXIT_TERMINATED = 129, 130, 143


class UserError(Exception):
    """A mistake the user can fix: printed as one line on stderr, exit 2, no traceback."""
