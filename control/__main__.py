"""`python -m control` runs the neverblink CLI (same as the `neverblink` script)."""

from control.cli import main

main()
