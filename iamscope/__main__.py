"""`python -m iamscope` runs the command-line interface."""

from iamscope.cli import main

main()
