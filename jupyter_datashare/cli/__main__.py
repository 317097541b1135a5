"""``python -m jupyter_datashare.cli``: the same as ``jupyter datashare``."""

import sys

from . import main

sys.exit(main())
