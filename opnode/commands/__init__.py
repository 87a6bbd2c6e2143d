"""Sub-commands of the ``opnode`` CLI, one module each."""
