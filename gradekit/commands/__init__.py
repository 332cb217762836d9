"""The verbs of the `gradekit` command, one module each.

Every module here holds one verb: `add_parser(subparsers, ...)` adds its sub-parser (its arguments,
options and help) and `run(args)` does it and returns the exit code. `options` holds what several
verbs share: the parser class that turns argparse's errors into `UsageError`, the number types of
the options, the grading options of `check`, `grade` and `selftest`, the `GradeConfig` they make, and
the exit codes. `gradekit/cli.py` only puts the verbs together and turns errors into one sentence.
Each verb imports the library it calls inside `run`, so `gradekit --help` stays quick.
"""
