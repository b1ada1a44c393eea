"""`python -m after_sales check-file|history ...`: the `after-sales` command line."""

import sys

from after_sales.cli import main

sys.exit(main())
