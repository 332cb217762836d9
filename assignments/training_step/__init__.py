"""The training step: microgpt's loss, gradient and Adam update on a bigram table.

One name per step, BOS on both ends, the mean cross-entropy over its positions, the gradient, a
linearly decaying learning rate and Adam with bias correction, exactly as microgpt trains; a bigram
logit table W (27 x 27, row = the current token) stands in for the network, so every piece can be
checked exactly. Update functions may return new values or update their arguments in place.
"""

SOLUTION = "gradekit.reference.training_step"
