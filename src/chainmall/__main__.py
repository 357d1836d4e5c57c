"""``python -m chainmall``: the command line."""

import sys

from chainmall.cli import main

sys.exit(main())
