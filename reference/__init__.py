"""The trusted maths every grade is measured against.

Each module here is self-contained (the standard library and NumPy only), so the same file can be
imported by the grader as an oracle and loaded by the sandbox as a submission that must earn full marks.
"""
