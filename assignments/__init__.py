"""The built-in assignments, each a folder written the way any instructor's assignment is."""
