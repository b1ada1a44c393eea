"""Create or update the read-only BI role (see after_sales/bi/role.py and docs/bi.md).

    AFTER_SALES_WAREHOUSE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/after_sales \\
    AFTER_SALES_BI_PASSWORD=change-me .venv/bin/python scripts/create_bi_role.py --role after_sales_bi
"""

import sys

from after_sales.bi.role import main

if __name__ == "__main__":
    sys.exit(main())
