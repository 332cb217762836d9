"""The functions you write for the cross-entropy assignment, and what each is graded on.

What holds for every function:
- Arguments arrive as plain Python lists of floats (and ints for token ids), never NumPy arrays.
- Any honest number comes back fine: a float, an int, a NumPy scalar or array (float64; float32 is
  judged at float32's precision), a tuple or list, or a microgpt `Value` (alone or in a list). A bool,
  a string or None is not a number.
- An answer must match the reference to about 9 significant digits (a relative 1e-9, plus an absolute
  margin that grows with the size of the logits).
- Every function is pure: it leaves the lists it is given unchanged and answers the same call the same
  way (no state, caches or randomness between calls).
- A function left as `raise NotImplementedError` costs only its own points. Each function's first
  check compares it with the reference; the others pay only once that one passes, so returning a
  constant scores 0.
- Correctness is checked on vocabularies of up to 256 tokens and documents of up to 512 positions,
  where a right but slow function answers in time; the timed checks ask for vocabularies of 10,000
  tokens and documents of 2,048 positions within the time limit of a call.
"""


def softmax(logits: list[float]) -> list[float]:
    """The probabilities of the next token: `p[i] = exp(logits[i]) / sum_j exp(logits[j])`.

    Arguments:
    - `logits`: a list of V >= 1 floats, the model's score for each token of the vocabulary. V is
      `len(logits)`, any size: do not assume microgpt's 27.

    Returns: a list of V probabilities in the order of the logits (a tuple, a NumPy array or a list of
    microgpt `Value`s is read the same).

    The grader holds you to:
    - a distribution: every probability >= 0, their sum 1, and a larger logit never gets a smaller
      probability;
    - stability: subtract `max(logits)` from every logit before `exp`. The result is the same, and
      `exp` never overflows, even for logits of +-1000 that lie more than 700 apart;
    - shift invariance: adding one constant to every logit changes nothing;
    - purity: build a new list; do not change `logits`, and keep no state between calls.
    """
    raise NotImplementedError


def cross_entropy_loss(logits: list[float], true_id: int) -> float:
    """The loss at one position: `-log softmax(logits)[true_id]`, with the natural log, in nats.

    Arguments:
    - `logits`: a list of V >= 1 floats, the model's score for each possible next token (V is
      `len(logits)`, any size).
    - `true_id`: the id of the token that actually came next, an int with `0 <= true_id < V`.

    Returns: the loss, one number (a float, an int, a NumPy scalar or a microgpt `Value`; a list of
    one number is read as that number).

    The grader holds you to:
    - the natural log (`math.log`, `np.log`), so the loss is in nats: not log2, not log10. Equal
      logits over V tokens give a loss of `ln V` (ln 27 = 3.2958 for microgpt);
    - no clamp and no epsilon: compute it as `logsumexp(logits) - logits[true_id]`, with `max(logits)`
      taken out of the logsumexp. A confidently wrong prediction costs its true, large loss (28.0 for
      logits `[-28.0, 0.0]` and `true_id = 0`, not 27.6), and a certain one costs 0;
    - the loss is never negative, falls when `logits[true_id]` rises, and does not change when one
      constant is added to every logit;
    - it equals `KL(onehot(true_id) || p)`, where `p` is your own `softmax(logits)`;
    - purity: do not change `logits`, and keep no state between calls.
    """
    raise NotImplementedError


def sequence_loss(logits_list: list[list[float]], true_ids: list[int]) -> float:
    """The loss of a document: the mean of `cross_entropy_loss(logits_list[i], true_ids[i])` over its positions.

    Arguments:
    - `logits_list`: n >= 1 rows, one per position, each a list of V floats (the same V for every
      row): row i holds the model's scores for the token that follows position i.
    - `true_ids`: n ints, `true_ids[i]` the token that actually followed position i, each in
      `range(V)`. They are already paired with the rows: do not shift them.

    A microgpt document is `[BOS] + letter ids + [BOS]`: "ava" is `[26, 0, 21, 0, 26]`, with one
    position per token but the last (BOS->a, a->v, v->a, a->BOS), so n = 4, the rows are the scores
    made at tokens `[26, 0, 21, 0]` and `true_ids` is `[0, 21, 0, 26]`.

    Returns: the loss, one number, as `cross_entropy_loss` returns it.

    The grader holds you to:
    - the mean, not the sum: add the n losses and divide by n = `len(true_ids)` (not n - 1, n + 1 or
      V), with true division;
    - every position counts, whatever its target: the last one, whose target is BOS (26) in a
      microgpt document, is averaged like the others. Do not skip BOS targets, the first position or
      the last, and do not cut a document at a block size: documents run to 512 positions here;
    - each position's loss is your own `cross_entropy_loss`, natural log, and the order of the
      positions does not change the mean;
    - stability, row by row: a row may hold logits of +-1000 more than 700 apart, and rows of one
      document may lie 950 apart (shift each row by its own max, not the document's);
    - purity: do not change either list, and keep no state between calls.
    """
    raise NotImplementedError


def perplexity(loss: float) -> float:
    """`exp(loss)`: the number of tokens the model is, on average, choosing between.

    Arguments:
    - `loss`: a mean cross-entropy loss in nats, a float from 0 to 700.

    Returns: the perplexity, one number (a float, an int, a NumPy scalar or a microgpt `Value`).

    The grader holds you to:
    - the natural exponential, to match the natural log of the loss: `math.exp(loss)`, not
      `2 ** loss`, `10 ** loss` or `exp(-loss)`. Uniform logits over V tokens give perplexity V;
    - a finite answer for every loss up to 700 (`exp(700)` is about 1e304): compute in Python floats
      or float64, since float32 overflows above `exp(88.7)`;
    - purity: the same loss always gives the same perplexity (no state or rounded cache between calls).
    """
    raise NotImplementedError


def softmax_cross_entropy_grad(logits: list[float], true_id: int) -> list[float]:
    """dL/dz for `L = cross_entropy_loss(logits, true_id)`: `softmax(logits) - onehot(true_id)`.

    Arguments:
    - `logits`: a list of V >= 1 floats, as for `cross_entropy_loss`.
    - `true_id`: the id of the true next token, an int with `0 <= true_id < V`.

    Returns: a list of V numbers, entry j the derivative of the loss with respect to `logits[j]` (a
    tuple, a NumPy array or a list of microgpt `Value`s is read the same).

    The grader holds you to:
    - subtract 1 at `true_id` only: every other entry is that token's probability, so the entries
      sum to 0;
    - it is the slope of your own `cross_entropy_loss`: each entry is checked against a central
      difference of your loss, so check its sign and the true token's entry;
    - stability: the softmax inside the gradient subtracts `max(logits)` too (logits of +-1000);
    - purity: build a new list; do not write into `logits`, and keep no state between calls.
    """
    raise NotImplementedError
