import sys

from vatl.cli import main

sys.exit(main())
