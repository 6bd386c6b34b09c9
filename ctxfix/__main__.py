"""`python -m ctxfix` entry point."""

from ctxfix.cli import main

if __name__ == "__main__":
    main()
