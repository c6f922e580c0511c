"""Consumer tests: the harness installed from a built wheel into its own venv, used as a user would."""
