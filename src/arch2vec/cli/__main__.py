import sys

from arch2vec.cli import main

sys.exit(main())
