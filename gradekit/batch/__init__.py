"""Many submissions graded as one class: who the students are (roster), the grader processes
(pool), the results folder (results), the progress line (progress), a Dask cluster (cluster), and
the loop that ties them together (class_grade)."""
