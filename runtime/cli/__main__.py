"""`python -m runtime.cli ROLE`: how the supervisor and the tests start each process."""
import sys

from runtime.cli import main

sys.exit(main())
