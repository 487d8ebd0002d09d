"""`python -m s2sgrad`: the same as the `s2sgrad` command."""
import sys

from s2sgrad_cli.main import main

sys.exit(main())
