"""What the training-step properties ask of a submission that calls from the grader cannot: a run of
calls made inside the worker, as microgpt's training loop makes them.

A call from the grader brings its arguments as new objects, wherever the worker's allocator puts
them, so whether it catches a function that keeps its answers by its arguments' identity (`id(step)`)
would be chance. A training loop is where such a cache goes wrong: its step counter is a new int at
every step, made where the last one was freed, so a later step arrives with an earlier step's id.
"""

submission = None  # the student's module, set by the worker before any call


def schedule_of_run(num_steps: int, base_lr: float) -> list:
    """`linear_lr(step, num_steps, base_lr)` for every step from 0 to `num_steps`, one call after
    another as a training loop makes them, each answer as it came (the worker sends it as plain
    data, as it sends a call's).

    Each step is a new int, made only once the step before it is freed: past 256, where Python no
    longer shares its ints, it takes the freed one's place, as a loop's counter does."""
    rates = []
    for text in [str(step) for step in range(num_steps + 1)]:
        step = int(text)
        rates.append(submission.linear_lr(step, num_steps, base_lr))
        del step
    return rates
