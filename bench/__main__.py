"""`python -m bench`: run every benchmark phase and write the reports."""

from bench.run import main

main()
