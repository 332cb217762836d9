"""The known mistakes of training_step, as models: what each one answers (see gradekit.known_mistakes).

Each model is the mistake itself, written once from the reference: a student's file that makes it,
in any style, answers as the model does, and is told the mistake by name. Where a mistake has a free
parameter (a letter offset, a log base, a count the mean divides by, a clip, a constant step size,
Adam's defaults), the model finds it from the student's own answers.

The update functions are modelled by what they return. One that updates its arguments in place and
returns None tells nothing by its answers; a train_step that does so returns its loss alone, which
only train_step_loss_after_update's model (`loss_only`) can explain. Mistakes seen only in what a
function does to its arguments or across calls (grads cleared, W shifted in place, tokens popped, a
step counter or a gradient buffer kept between calls) are told from their files, not here.
"""

import math
from itertools import product

import numpy as np
from gradekit.reference import training_step as ref

from gradekit import known_behaviour, known_mistake

BOS = ref.BOS
DEFAULTS = (ref.BETA1, ref.BETA2, ref.EPS)  # adam_update's beta1, beta2 and eps when a call leaves them out


def _softmax(row):
    top = max(row)
    exps = [math.exp(z - top) for z in row]
    total = math.fsum(exps)
    return [e / total for e in exps]


def _positions(tokens):
    """Each position's (current token, next token)."""
    return list(zip(tokens[:-1], tokens[1:]))


def _zeros(W):
    return [[0.0] * len(row) for row in W]


# --- encode ---------------------------------------------------------------------------------------


def _letter_offset_from(name, tokens):
    """How far every letter's id is from ord(c) - ord('a'), where it is the same for every letter."""
    offsets = {t - (ord(c) - ord("a")) for c, t in zip(name, list(tokens)[1:-1])}
    return offsets.pop() if len(offsets) == 1 and len(tokens) == len(name) + 2 else None


@known_mistake("encode", "encode_a_is_one.py", fit=_letter_offset_from, within=(-97, 97))
def encode_a_is_one(name, offset):
    """gives 'a' the id {:g} instead of 0, so every letter's id is off by as much

    Letter ids are ord(c) - ord('a'): 'a' is 0, 'z' is 25, and BOS is 26. Shifted ids name other
    tokens, or none of the 27 at all; shifted by one, 'z' becomes 26, BOS's id, so the end of a name
    and the letter z look the same. Use ord(c) - ord('a').
    """
    return [BOS] + [ord(c) - ord("a") + round(offset) for c in name] + [BOS]


@known_mistake("encode", "encode_bos_only_at_end.py")
def encode_bos_only_at_end(name):
    return [ord(c) - ord("a") for c in name] + [BOS]


@known_mistake("encode", "encode_bos_only_at_start.py")
def encode_bos_only_at_start(name):
    return [BOS] + [ord(c) - ord("a") for c in name]


# --- bigram_loss ----------------------------------------------------------------------------------

# The counts a mean over positions is mistaken for, said as a student writes them (n = len(tokens) - 1).
COUNTS = {"len(tokens)": 1, "len(tokens) - 2": -1}


# The block sizes a document is cut at, as microgpt's n = min(block_size, len(tokens) - 1) cuts it at 16.
BLOCK_SIZES = (8, 16, 32, 64, 128, 256)


@known_mistake("bigram_loss", "bigram_loss_cut_at_block_size.py", among=BLOCK_SIZES)
def bigram_loss_cut_at_block_size(W, tokens, block):
    """keeps only the first {} positions, as microgpt's n = min(block_size, len(tokens) - 1) does

    block_size bounds the context a model sees, not which positions count: the loss of a document is
    the mean over all len(tokens) - 1 of its positions, however long it is.
    """
    return ref.bigram_loss(W, list(tokens)[: block + 1])


@known_mistake("bigram_loss", "bigram_loss_divides_by_token_count.py", among=tuple(COUNTS))
def bigram_loss_divides_by_token_count(W, tokens, count):
    """divides the summed loss by {}, not by the len(tokens) - 1 positions

    len(tokens) tokens make n = len(tokens) - 1 positions, each predicting the next token from the
    current one, so the mean is the sum of the n position losses divided by n. Any other count makes
    every mean too small or too large, by more on short names.
    """
    n = len(tokens) - 1
    return ref.bigram_loss(W, tokens) * n / (n + COUNTS[count])


@known_mistake("bigram_loss", "bigram_loss_log2.py", among=(2, 10))
def bigram_loss_log2(W, tokens, base):
    """measures the loss with the log in base {}, not the natural log

    Dividing by ln(base) scales every loss: equal logits give ln 27 / ln(base) instead of
    ln 27 = 3.2958. Use the natural log, logsumexp(W[current]) - W[current][next], with no other base.
    """
    return ref.bigram_loss(W, tokens) / math.log(base)


@known_mistake("bigram_loss", "bigram_loss_no_max_shift.py")
def bigram_loss_no_max_shift(W, tokens):
    losses = [math.log(sum(math.exp(z) for z in W[a])) - W[a][b] for a, b in _positions(tokens)]
    return sum(losses) / len(losses)


@known_mistake("bigram_loss", "bigram_loss_rows_swapped.py")
def bigram_loss_rows_swapped(W, tokens):
    # W[next][current] at every position is the loss of the document read backwards.
    return ref.bigram_loss(W, list(tokens)[::-1])


@known_mistake("bigram_loss", "bigram_loss_shift_by_target_logit.py")
def bigram_loss_shift_by_target_logit(W, tokens):
    losses = [math.log(sum(math.exp(z - W[a][b]) for z in W[a])) for a, b in _positions(tokens)]
    return sum(losses) / len(losses)


@known_mistake("bigram_loss", "bigram_loss_sums_positions.py")
def bigram_loss_sums_positions(W, tokens):
    return ref.bigram_loss(W, tokens) * (len(tokens) - 1)


# --- bigram_grad ----------------------------------------------------------------------------------


def _grad(W, tokens, rows, step):
    """A gradient each position adds `step(current, next)` to, in row `rows(current, next)`; an
    array, which a diagnosis reads at once."""
    grad = np.zeros((len(W), len(W[0])))
    for a, b in _positions(tokens):
        grad[rows(a, b)] += step(a, b)
    return grad


def _onehot(W, index):
    return [1.0 if j == index else 0.0 for j in range(len(W[0]))]


@known_mistake("bigram_grad", "bigram_grad_cut_at_block_size.py", among=BLOCK_SIZES)
def bigram_grad_cut_at_block_size(W, tokens, block):
    """adds only the first {} positions, as microgpt's n = min(block_size, len(tokens) - 1) does

    block_size bounds the context a model sees, not which positions count: the gradient of a
    document's loss adds every one of its len(tokens) - 1 positions, each divided by that n.
    """
    return ref.bigram_grad(W, list(tokens)[: block + 1])


@known_mistake("bigram_grad", "bigram_grad_forgets_softmax.py")
def bigram_grad_forgets_softmax(W, tokens):
    n = len(tokens) - 1
    return _grad(W, tokens, lambda a, b: a, lambda a, b: [-o / n for o in _onehot(W, b)])


# How a row's exps are added up: sum() overflows to inf, and every probability to 0; math.fsum raises.
@known_mistake("bigram_grad", "bigram_grad_no_max_shift.py", among=(sum, math.fsum))
def bigram_grad_no_max_shift(W, tokens, added):
    n = len(tokens) - 1

    def step(a, b):
        exps = [math.exp(z) for z in W[a]]
        total = added(exps)
        return [(e / total - o) / n for e, o in zip(exps, _onehot(W, b))]

    return _grad(W, tokens, lambda a, b: a, step)


# The counts the positions' gradients are divided by instead of n, said as a student writes them.
GRAD_COUNTS = {"1": lambda n: 1, "len(tokens)": lambda n: n + 1, "len(tokens) - 2": lambda n: n - 1}


@known_mistake("bigram_grad", "bigram_grad_not_divided_by_n.py", among=tuple(GRAD_COUNTS))
def bigram_grad_not_divided_by_n(W, tokens, count):
    """divides the positions' gradients by {}, not by the n = len(tokens) - 1 positions

    The loss is the mean over n = len(tokens) - 1 positions, so its gradient is each position's
    softmax - onehot divided by that same n; any other count makes every entry too large or too small.
    """
    n = len(tokens) - 1
    scale = n / GRAD_COUNTS[count](n)
    return np.asarray(ref.bigram_grad(W, tokens)) * scale


@known_mistake("bigram_grad", "bigram_grad_overwrites_repeated_rows.py")
def bigram_grad_overwrites_repeated_rows(W, tokens):
    n = len(tokens) - 1
    grad = np.zeros((len(W), len(W[0])))
    for a, b in _positions(tokens):
        grad[a] = [(p - o) / n for p, o in zip(_softmax(W[a]), _onehot(W, b))]
    return grad


@known_mistake("bigram_grad", "bigram_grad_sign_flipped.py")
def bigram_grad_sign_flipped(W, tokens):
    return -np.asarray(ref.bigram_grad(W, tokens))


@known_mistake("bigram_grad", "bigram_grad_target_row.py")
def bigram_grad_target_row(W, tokens):
    n = len(tokens) - 1
    step = lambda a, b: [(p - o) / n for p, o in zip(_softmax(W[a]), _onehot(W, b))]
    return _grad(W, tokens, lambda a, b: b, step)


# --- sgd_update -----------------------------------------------------------------------------------


@known_mistake("sgd_update", "sgd_adds.py")
def sgd_adds(params, grads, lr):
    return [p + lr * g for p, g in zip(params, grads)]


def _clip_from(params, grads, lr, answer):
    """The bound the gradients were clipped at: the largest step / lr of an entry that moved less
    than lr * |g|."""
    moved = [abs(p - q) / lr for p, q in zip(params, answer)] if lr > 0 else []
    clipped = [s for s, g in zip(moved, grads) if 0 < s < abs(g) * (1 - 1e-6)]
    return max(clipped) if clipped else None


@known_mistake("sgd_update", "sgd_clips_gradients.py", fit=_clip_from, within=(1e-9, 1e9))
def sgd_clips_gradients(params, grads, lr, bound):
    """clips every gradient to [-{0:g}, {0:g}] before the step

    Clipping is a training trick, not gradient descent: the step is params[i] - lr * grads[i] for
    the gradient as given, so a gradient beyond the clip moves its parameter too little, and its
    entry comes back wrong. Use the gradients as they are.
    """
    return [p - lr * max(-bound, min(bound, g)) for p, g in zip(params, grads)]


def _step_size_from(params, grads, lr, answer):
    """The one factor every gradient was scaled by, whatever lr was: (p - new p) / g."""
    sizes = sorted((p - q) / g for p, q, g in zip(params, answer, grads) if g != 0 and p != q)
    return sizes[len(sizes) // 2] if sizes else None


@known_mistake("sgd_update", "sgd_ignores_lr.py", fit=_step_size_from, within=(1e-12, 1e3))
def sgd_ignores_lr(params, grads, lr, size):
    """moves each parameter by {:g} times its gradient, whatever the learning rate lr is

    The step is lr times the gradient: without lr (or with a learning rate of your own) the steps
    are the wrong size, and lr = 0 still changes the parameters. Use params[i] - lr * grads[i].
    """
    return [p - size * g for p, g in zip(params, grads)]


# --- linear_lr ------------------------------------------------------------------------------------


@known_mistake("linear_lr", "linear_lr_cosine.py")
def linear_lr_cosine(step, num_steps, base_lr):
    return base_lr * 0.5 * (1 + math.cos(math.pi * step / num_steps))


@known_mistake("linear_lr", "linear_lr_floor_division.py")
def linear_lr_floor_division(step, num_steps, base_lr):
    return base_lr * (1 - step // num_steps)


@known_mistake("linear_lr", "linear_lr_no_decay.py")
def linear_lr_no_decay(step, num_steps, base_lr):
    return base_lr


def _step_offset_from(step, num_steps, base_lr, lr):
    """k in base_lr * (1 - (step + k) / num_steps), to the nearest whole step."""
    return round((1 - lr / base_lr) * num_steps - step)


@known_mistake("linear_lr", "linear_lr_off_by_one.py", fit=_step_offset_from, within=(-2, 2))
def linear_lr_off_by_one(step, num_steps, base_lr, offset):
    """computes base_lr * (1 - (step {0:+g}) / num_steps), as if step did not count from 0

    step already counts from 0: step 0 gets base_lr and step num_steps gets 0. Shifted by one, step 0
    is already decayed (or not yet started) and the last step's lr is not 0. Use step as given:
    base_lr * (1 - step / num_steps).
    """
    return base_lr * (1 - (step + offset) / num_steps)


# --- adam_update ----------------------------------------------------------------------------------


def _adam_arguments(call, defaults=DEFAULTS):
    """adam_update's arguments as arrays and numbers, the hyperparameters a call leaves out filled in
    from `defaults`."""
    params, grads, m, v, step, lr, *given = call
    beta1, beta2, eps = (*given, *defaults[len(given) :])
    arrays = (np.asarray(x, dtype=np.float64) for x in (params, grads, m, v))
    return (*arrays, step, lr, beta1, beta2, eps)


def _moments(g, m, v, beta1, beta2):
    return beta1 * m + (1 - beta1) * g, beta2 * v + (1 - beta2) * g * g


def _corrected(m, v, step, beta1, beta2):
    return m / (1 - beta1 ** (step + 1)), v / (1 - beta2 ** (step + 1))


def _adam(params, g, m, v, step, lr, beta1, beta2, eps):
    """Adam as the reference takes it, on arrays: the new (params, m, v), left as arrays, which a
    diagnosis reads at once."""
    m, v = _moments(g, m, v, beta1, beta2)
    m_hat, v_hat = _corrected(m, v, step, beta1, beta2)
    return params - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


@known_mistake("adam_update", "adam_betas_swapped.py")
def adam_betas_swapped(*call):
    params, g, m, v, step, lr, beta1, beta2, eps = _adam_arguments(call)
    m, v = beta2 * m + (1 - beta2) * g, beta1 * v + (1 - beta1) * g * g
    m_hat, v_hat = _corrected(m, v, step, beta1, beta2)
    return params - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


@known_mistake("adam_update", "adam_eps_inside_sqrt.py")
def adam_eps_inside_sqrt(*call):
    params, g, m, v, step, lr, beta1, beta2, eps = _adam_arguments(call)
    m, v = _moments(g, m, v, beta1, beta2)
    m_hat, v_hat = _corrected(m, v, step, beta1, beta2)
    return params - lr * m_hat / np.sqrt(v_hat + eps), m, v


@known_mistake("adam_update", "adam_gradient_ascent.py")
def adam_gradient_ascent(*call):
    params, g, m, v, step, lr, beta1, beta2, eps = _adam_arguments(call)
    m, v = _moments(g, m, v, beta1, beta2)
    m_hat, v_hat = _corrected(m, v, step, beta1, beta2)
    return params + lr * m_hat / (np.sqrt(v_hat) + eps), m, v


@known_mistake("adam_update", "adam_ignores_eps.py")
def adam_ignores_eps(*call):
    *arguments, _ = _adam_arguments(call)
    return _adam(*arguments, ref.EPS)


@known_mistake("adam_update", "adam_m_and_v_aliased.py")
def adam_m_and_v_aliased(*call):
    params, _, v = _adam(*_adam_arguments(call))
    return params, v, v


@known_mistake("adam_update", "adam_no_bias_correction.py")
def adam_no_bias_correction(*call):
    params, g, m, v, _, lr, beta1, beta2, eps = _adam_arguments(call)
    m, v = _moments(g, m, v, beta1, beta2)
    return params - lr * m / (np.sqrt(v) + eps), m, v


# Adam's defaults in other revisions and libraries (an earlier microgpt's 0.9 and 0.95, PyTorch's 0.9
# and 0.999, Keras's eps of 1e-7), each with microgpt's: microgpt's own left out.
OTHER_DEFAULTS = tuple(d for d in product((0.9, 0.85), (0.95, 0.999, 0.99, 0.98), (1e-8, 1e-7, 1e-6)) if d != DEFAULTS)


@known_mistake("adam_update", "adam_old_defaults.py", among=OTHER_DEFAULTS)
def adam_old_defaults(*call):
    """defaults to beta1 = {0[0]}, beta2 = {0[1]} and eps = {0[2]:g}, not microgpt's 0.85, 0.99 and 1e-8

    Any call that leaves out the hyperparameters, train_step's included, then runs with the wrong
    averages. Use microgpt's defaults in the signature: beta1 = 0.85, beta2 = 0.99, eps = 1e-8.
    """
    *arguments, defaults = call
    return _adam(*_adam_arguments(arguments, defaults))


@known_mistake("adam_update", "adam_returns_corrected_moments.py")
def adam_returns_corrected_moments(*call):
    params, g, m, v, step, lr, beta1, beta2, eps = _adam_arguments(call)
    m, v = _moments(g, m, v, beta1, beta2)
    m_hat, v_hat = _corrected(m, v, step, beta1, beta2)
    return params - lr * m_hat / (np.sqrt(v_hat) + eps), m_hat, v_hat


@known_mistake("adam_update", "adam_step_not_plus_one.py")
def adam_step_not_plus_one(*call):
    params, g, m, v, step, lr, beta1, beta2, eps = _adam_arguments(call)
    m, v = _moments(g, m, v, beta1, beta2)
    # Python floats, as the bias correction is written: at step 0 it divides by 0 and raises.
    m_hat, v_hat = m * (1 / (1 - beta1**step)), v * (1 / (1 - beta2**step))
    return params - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


@known_mistake("adam_update", "adam_v_from_g.py")
def adam_v_from_g(*call):
    params, g, m, v, step, lr, beta1, beta2, eps = _adam_arguments(call)
    m, v = beta1 * m + (1 - beta1) * g, beta2 * v + (1 - beta2) * np.abs(g)
    m_hat, v_hat = _corrected(m, v, step, beta1, beta2)
    return params - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


@known_mistake("adam_update", "adam_v_hat_not_square_rooted.py")
def adam_v_hat_not_square_rooted(*call):
    params, g, m, v, step, lr, beta1, beta2, eps = _adam_arguments(call)
    m, v = _moments(g, m, v, beta1, beta2)
    m_hat, v_hat = _corrected(m, v, step, beta1, beta2)
    return params - lr * m_hat / (v_hat + eps), m, v


# --- train_step -----------------------------------------------------------------------------------


@known_mistake("train_step", "train_step_aliases_state.py")
def train_step_aliases_state(W, tokens, m, v, step, *schedule):
    loss, W, _, v = ref.train_step(W, tokens, m, v, step, *schedule)
    return loss, W, v, v


@known_mistake("train_step", "train_step_loss_after_update.py", among=(False, True))
def train_step_loss_after_update(*call):
    *arguments, loss_only = call
    _, W, m, v = ref.train_step(*arguments)
    loss = ref.bigram_loss(W, arguments[1])
    return loss if loss_only else (loss, W, m, v)  # loss_only: W, m and v updated in place


@known_mistake("train_step", "train_step_no_lr_decay.py")
def train_step_no_lr_decay(W, tokens, m, v, step, num_steps=ref.NUM_STEPS, base_lr=ref.BASE_LR):
    new_W, new_m, new_v = ref.adam_update(W, ref.bigram_grad(W, tokens), m, v, step, base_lr)
    return ref.bigram_loss(W, tokens), new_W, new_m, new_v


@known_mistake("train_step", "train_step_resets_moments.py")
def train_step_resets_moments(W, tokens, m, v, step, *schedule):
    return ref.train_step(W, tokens, _zeros(W), _zeros(W), step, *schedule)


@known_mistake("train_step", "train_step_updates_only_used_rows.py")
def train_step_updates_only_used_rows(W, tokens, m, v, step, *schedule):
    loss, *stepped = ref.train_step(W, tokens, m, v, step, *schedule)
    used = set(tokens[:-1])
    return loss, *([new[r] if r in used else old[r] for r in range(len(W))] for old, new in zip((W, m, v), stepped))


@known_mistake("train_step", "train_step_uses_sgd.py")
def train_step_uses_sgd(W, tokens, m, v, step, num_steps=ref.NUM_STEPS, base_lr=ref.BASE_LR):
    lr = ref.linear_lr(step, num_steps, base_lr)
    grad = ref.bigram_grad(W, tokens)
    W_after = [ref.sgd_update(row, g, lr) for row, g in zip(W, grad)]
    return ref.bigram_loss(W, tokens), W_after, m, v


# --- what a call does, where its answers are right ------------------------------------------------

bigram_loss_pops_tokens = known_behaviour("bigram_loss", "bigram_loss_pops_tokens.py", changes=["tokens"])
bigram_grad_shifts_W_in_place = known_behaviour("bigram_grad", "bigram_grad_shifts_W_in_place.py", changes=["W"])
sgd_scales_grads_in_place = known_behaviour("sgd_update", "sgd_scales_grads_in_place.py", changes=["grads"])
adam_clears_grads = known_behaviour("adam_update", "adam_clears_grads.py", changes=["grads"])
