"""dagster-daemon for the demo, with a 2 s backfill loop instead of Dagster's fixed 30 s.

The demo's backfill runs its ranges one after another (the action ranking of a day reads the work orders
of the days before it), and the daemon looks for the next range only once per loop: at 30 s a loop, most
of a demo was waiting. The interval is a module constant of Dagster's daemon controller, read on every loop.
"""

import dagster._daemon.controller as controller
from dagster._daemon.cli import main

from after_sales import dagster_sqlite

DEMO_LOOP_SECONDS = 2

if __name__ == "__main__":
    controller.DEFAULT_DAEMON_INTERVAL_SECONDS = DEMO_LOOP_SECONDS
    dagster_sqlite.install()
    main()
