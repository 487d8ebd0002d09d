"""The `s2sgrad` command line (installed as the package `s2sgrad_cli`)."""
