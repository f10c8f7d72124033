"""``python -m ckv`` runs the command line."""

import sys

from ckv.cli import main

sys.exit(main())
