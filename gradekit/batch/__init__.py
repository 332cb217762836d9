"""Many submissions graded as one class: who the students are (roster), the staff's adjustments
(overrides, read from a spreadsheet's CSV by spreadsheet), the grader processes (pool), a Dask cluster
(cluster), the results folder (results_folder), the progress line (progress), the git repositories collected
at a deadline (collect, with git_command, tree_writer and pins), and the grade that ties them
together (class_grade)."""
