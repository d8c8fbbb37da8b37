"""The `electra-tf` command line (see `main.py`)."""
