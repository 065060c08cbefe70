"""`python -m gradwire.server [flags]`: see gradwire.server.main."""

import sys

from .main import main

sys.exit(main())
