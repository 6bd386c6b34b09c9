"""`python -m ctxfix` entry point (the same launcher as the console script)."""

from ctxfix.launch import main

if __name__ == "__main__":
    main()
