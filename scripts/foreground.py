"""Run a command in place of this process with SIGINT and SIGTERM at their defaults.

`make ui &` starts its recipe from a non-interactive shell, which ignores SIGINT for background jobs, and
an ignored signal stays ignored across exec: the UI would then ignore Ctrl-C and `kill -INT`. This resets
both signals and execs the command, so the UI is make's own child and stops on SIGINT or SIGTERM.
"""

import os
import signal
import sys

if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: foreground.py COMMAND [ARG...]")
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_DFL)
    os.execvp(sys.argv[1], sys.argv[1:])
