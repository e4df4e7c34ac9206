"""`python -m callviewer`: the same as the `callviewer` command."""

import sys

from callviewer.cli import main

sys.exit(main())
