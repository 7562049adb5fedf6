"""`python -m paperscope` runs the CLI."""

from .cli import main

if __name__ == "__main__":  # not in a process `readahead` spawns, which imports this module again
    main()
