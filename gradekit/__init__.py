"""gradekit: property-based grading of the maths behind a tiny GPT's loss and training step."""

__version__ = "0.1.0"
