"""`python -m electra_serving.server`: see `electra_serving.server.main`."""

import sys

from electra_serving.server.main import main

sys.exit(main())
