"""scripts/lab: one entry point, one subcommand per job (see `scripts/lab --help`)."""
import sys

from . import cli

if __name__ == "__main__":
    sys.exit(cli.main(sys.argv[1:]))
