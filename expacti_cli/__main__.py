import sys

from expacti_cli.entry import main

sys.exit(main())
