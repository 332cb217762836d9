"""The functions you write for the training-step assignment, and what each is graded on.

microgpt's training step, with a trainable 27 x 27 bigram table `W` standing in for the network:
`W[a][b]` is the logit of token b coming next after token a (row = the current token, column = the
next one). Tokens are the letters a-z as ids 0-25 and BOS = 26.

What holds for every function:
- Arguments arrive as plain Python lists (floats, and ints for token ids), never NumPy arrays; a table
  is a list of 27 rows of 27 floats.
- Any honest number comes back fine: a float, an int, a NumPy scalar or array (float64; float32 is
  judged at float32's precision), a tuple or list, or a microgpt `Value`. A bool, a string or None is
  not a number.
- The update functions (`sgd_update`, `adam_update`, `train_step`) may return their new values, or
  update the lists they were given in place as microgpt does and return None (`train_step` then
  returns only the loss): both are graded the same. Pick one way per function and keep to it.
- An answer must match the reference to about 9 significant digits (a relative 1e-9, plus an absolute
  margin that grows with the size of the inputs).
- Every function answers the same call the same way: no state, caches or randomness between calls,
  and no argument changed but those an update function updates in place.
- A function left as `raise NotImplementedError` costs only its own points. Each function's first
  check compares it with the reference; the others pay only once that one passes, so returning a
  constant scores 0.
- Correctness is checked on names of up to 8 letters (and a few past every common block size, for
  `encode`), documents of a few hundred tokens (names joined, past every common block size) and up to
  729 parameters (a whole 27 x 27 table, always tried); the timed checks ask for documents of
  6,000 tokens and 10,000 parameters within the time limit of a call.
"""

# The arguments an update function may change in place, and those it may only set to zeros (microgpt's
# `p.grad = 0`). Every other argument of every function comes back as it was given: the grader
# compares each with a copy after every call.
UPDATED_IN_PLACE = {"sgd_update": ("params",), "adam_update": ("params", "m", "v"), "train_step": ("W", "m", "v")}
ZEROED_IN_PLACE = {"adam_update": ("grads",)}


def encode(name: str) -> list[int]:
    """The tokens of a name as microgpt trains on it: `[BOS] + [ord(c) - ord('a') for c in name] + [BOS]`.

    Arguments:
    - `name`: 1 or more lowercase letters a-z, of any length: microgpt's names have 2 to 15 letters,
      and the grader also tries names past every common block size (17 and 300 letters).

    Returns: a list of `len(name) + 2` ints (a tuple or a NumPy integer array is read the same): 'a'
    is 0, 'z' is 25 and BOS is 26. `encode("ava")` is `[26, 0, 21, 0, 26]`.

    The grader holds you to:
    - one BOS (26) opens the name and one closes it: not BOS at one end only, not two at an end. From
      the opening BOS the model learns to predict the first letter; from the last letter, the closing
      BOS, the end of the name;
    - letter ids `ord(c) - ord('a')`, so every id is in 0..26.
    """
    raise NotImplementedError


def bigram_loss(W: list[list[float]], tokens: list[int]) -> float:
    """The mean cross-entropy of the document `tokens` under the bigram table `W`, in nats.

    Arguments:
    - `W`: 27 rows of 27 floats; row a holds the logits of the token that comes after token a.
    - `tokens`: at least 2 ids in 0..26, usually `encode(name)`, sometimes any ids (BOS need not open
      or close them, and may appear anywhere), sometimes a document of many names joined, hundreds
      of tokens long.

    There are n = `len(tokens) - 1` positions. Position i predicts `tokens[i + 1]` from the row of
    the current token, `W[tokens[i]]`, and its loss is

        logsumexp(W[tokens[i]]) - W[tokens[i]][tokens[i + 1]]

    Returns: the mean of the n losses, one number (a float, an int, a NumPy scalar or a microgpt
    `Value`).

    The grader holds you to:
    - the mean over the n = `len(tokens) - 1` positions, not the sum and not a division by
      `len(tokens)`;
    - BOS is a token like any other: every position counts, the first (BOS as the current token,
      row 26) and the last (BOS as the target) included. Do not skip, strip or add BOS, and do not
      cut a long document at a block size (microgpt's `min(block_size, len(tokens) - 1)`): use
      `tokens` as given, however long. For `encode("ava")` = `[26, 0, 21, 0, 26]` that is 4
      positions: BOS->a, a->v, v->a, a->BOS;
    - the natural log, so a table of equal logits gives `ln 27 = 3.2958` at every position;
    - only the rows of current tokens (`tokens[:-1]`) matter: index `W[current][next]`, not
      `W[next][current]`;
    - stability: subtract each row's own max before `exp`. Adding one constant (up to +-1000) to a
      row changes nothing, and the loss stays right where one logit of a row stands up to 720 above
      the others (shifting by any other entry than the max overflows exp);
    - do not change `W` or `tokens`.
    """
    raise NotImplementedError


def bigram_grad(W: list[list[float]], tokens: list[int]) -> list[list[float]]:
    """The gradient of `bigram_loss(W, tokens)` with respect to `W`: a table shaped like `W`.

    Arguments: `W` and `tokens` as for `bigram_loss`.

    Each position i, with n = `len(tokens) - 1`, adds to the row of its current token:

        grad[tokens[i]] += (softmax(W[tokens[i]]) - onehot(tokens[i + 1])) / n

    Returns: 27 rows of 27 numbers (a NumPy array of shape (27, 27) is read the same).

    The grader holds you to:
    - the 1/n of the mean, with the same n as `bigram_loss`, BOS positions included and no block
      size; a row that is the current token at several positions collects all of them;
    - a row never used as a current token (not in `tokens[:-1]`) is exactly 0.0, and every row sums
      to 0;
    - it is the slope of your own `bigram_loss`: entries are checked against central differences of
      your loss, so check which row and which sign;
    - stability: each row's softmax subtracts that row's max (rows moved by up to +-1000 stay finite);
    - do not change `W` or `tokens`.
    """
    raise NotImplementedError


def sgd_update(params: list[float], grads: list[float], lr: float) -> list[float] | None:
    """One step of gradient descent: `params[i] - lr * grads[i]` for every entry.

    Arguments:
    - `params`, `grads`: flat lists of floats of one length (1 to 729 entries).
    - `lr`: the learning rate, a float from 0 to 1.

    Returns: the new params as a list, or None after writing them into `params` in place.

    The grader holds you to:
    - a step against the gradient, `lr` times it: doubling `lr` doubles how far every parameter
      moves;
    - with `lr = 0`, or with every gradient 0, the parameters come back exactly as they were;
    - do not change `grads`.
    """
    raise NotImplementedError


def linear_lr(step: int, num_steps: int, base_lr: float) -> float:
    """microgpt's learning rate schedule: `base_lr * (1 - step / num_steps)`.

    Arguments:
    - `step`: the step about to be taken, counting from 0, an int with `0 <= step <= num_steps`.
    - `num_steps`: the length of the training run, an int >= 1 (microgpt's is 1000).
    - `base_lr`: the learning rate at step 0, a float (microgpt's is 0.01).

    Returns: the learning rate for `step`, one number.

    The grader holds you to:
    - linear decay (not cosine) from `base_lr` at step 0 to 0 at step `num_steps`, the same
      `base_lr / num_steps` less at every step;
    - true division: `step / num_steps` is a fraction, not 0.
    """
    raise NotImplementedError


def adam_update(
    params: list[float],
    grads: list[float],
    m: list[float],
    v: list[float],
    step: int,
    lr: float,
    beta1: float = 0.85,
    beta2: float = 0.99,
    eps: float = 1e-8,
) -> tuple[list[float], list[float], list[float]] | None:
    """One Adam update, as microgpt writes it, of flat lists of parameters.

    Arguments:
    - `params`, `grads`: flat lists of floats of one length (1 to 10,000 entries).
    - `m`, `v`: Adam's first and second moments for these parameters, as the previous update left
      them (all 0.0 before the first update); every `v[i] >= 0`.
    - `step`: the index of this update, counting from 0 (the first update is step 0).
    - `lr`: the learning rate for this step, already scheduled.
    - `beta1`, `beta2`, `eps`: microgpt's 0.85, 0.99 and 1e-8 unless given. The grader gives other
      values too (an earlier revision's 0.9 and 0.95, an eps of 1e-6, say): use the arguments, not
      constants, everywhere they appear.

    For every entry, with g its gradient:

        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g ** 2
        m_hat = m / (1 - beta1 ** (step + 1))
        v_hat = v / (1 - beta2 ** (step + 1))
        p = p - lr * m_hat / (v_hat ** 0.5 + eps)

    Returns: the tuple `(params, m, v)` of the new lists (a list of the three is read the same), or
    None after updating `params`, `m` and `v` in place.

    The grader holds you to:
    - bias correction with `step + 1`: step counts from 0, so the first update divides by
      `1 - beta1` and `1 - beta2`, giving `m_hat = g` and `v_hat = g ** 2`. From `m = v = 0` at step
      0 every parameter with `|g|` well above `eps` moves by `lr` against the sign of g;
    - `eps` added after the square root, `v_hat ** 0.5 + eps`, not inside it;
    - the `m` and `v` you return (or leave) are the running averages, not `m_hat` and `v_hat`;
    - each of `params`, `m`, `v` is left either as it was passed or as the new value: do not return
      new lists and also change the caller's to something else;
    - do not change `grads` (setting every gradient to 0.0 after the update, as microgpt's
      `p.grad = 0` does, is allowed), and keep no step count or moments between calls.
    """
    raise NotImplementedError


def train_step(
    W: list[list[float]],
    tokens: list[int],
    m: list[list[float]],
    v: list[list[float]],
    step: int,
    num_steps: int = 1000,
    base_lr: float = 0.01,
) -> tuple[float, list[list[float]], list[list[float]], list[list[float]]] | float:
    """One training step of microgpt on one document, with the bigram table `W` as the model.

    Arguments:
    - `W`: the 27 x 27 bigram table before the step.
    - `tokens`: the document, at least 2 ids in 0..26 (usually `encode(name)`), used as given.
    - `m`, `v`: Adam's moments for `W`, tables shaped like `W` (all 0.0 before the first step).
    - `step`: the index of this step, counting from 0.
    - `num_steps`, `base_lr`: the schedule, microgpt's 1000 and 0.01 unless given; the grader gives
      others too (50 steps from 0.05, say).

    In order, as microgpt does it:

        loss = bigram_loss(W, tokens)
        grad = bigram_grad(W, tokens)
        lr = linear_lr(step, num_steps, base_lr)
        W, m, v = adam_update(W, grad, m, v, step, lr)

    where `adam_update` runs entry by entry over the tables, with microgpt's beta1 = 0.85,
    beta2 = 0.99 and eps = 1e-8.

    Returns: the tuple `(loss, W, m, v)`, the loss before the update and the new tables; or, after
    updating `W`, `m` and `v` in place, the loss alone (never None).

    The grader holds you to:
    - the loss of the `W` you were given, taken before the update;
    - BOS positions count in the loss and its gradient, as in `bigram_loss`: `tokens` as given;
    - one `step` for both the schedule and Adam's bias correction (`step + 1` in it), counting
      from 0;
    - every call is one whole step on its own inputs: a fresh gradient (never added to an earlier
      step's: microgpt sets `p.grad = 0` after each update), and no gradient, step count or moments
      kept between calls. Run over several names, each step must match the reference;
    - training one name over and over lowers its loss at every step;
    - `tokens` unchanged, and each of `W`, `m`, `v` left either as passed or as the new value.
    """
    raise NotImplementedError
