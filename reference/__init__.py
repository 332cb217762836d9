"""The trusted maths every grade is measured against, and the course's facts.

Each module here is self-contained (the standard library and NumPy only), so the same file can be
imported by the grader as an oracle and loaded by the sandbox as a submission that must earn full marks.
course.py holds the vocabulary, BOS and the name-to-tokens mapping, defined once for the grader's side
(strategies, properties, reports); the model answers keep their own copies, since a submission cannot
import gradekit, and tests/kit/test_course.py holds them to it.
"""
