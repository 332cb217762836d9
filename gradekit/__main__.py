from gradekit.cli import run

run()
