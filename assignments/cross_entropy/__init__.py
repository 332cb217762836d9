"""Cross-entropy: softmax, the loss, its mean over a sequence, perplexity and the gradient.

A language model outputs one logit per token of its vocabulary; softmax turns them into
probabilities, and training lowers -log P(true next token), averaged over the positions of a
document. microgpt does this with 27 tokens (a-z and BOS) and names as documents.
"""

SOLUTION = "gradekit.reference.cross_entropy"
