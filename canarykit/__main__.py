"""``python -m canarykit`` runs the command line."""

import sys

from canarykit.cli.main import main

sys.exit(main())
