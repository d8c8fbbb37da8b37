import sys

from electra_tf.cli.main import main

sys.exit(main())
