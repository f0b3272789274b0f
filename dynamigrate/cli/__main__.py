"""`python -m dynamigrate.cli`, as the `dynamigrate` console script."""

import sys

from dynamigrate.cli import main

sys.exit(main())
