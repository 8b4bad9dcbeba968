"""`python -m ioc` is the `ioc` command."""

from ioc.cli import main

if __name__ == "__main__":
    main()
