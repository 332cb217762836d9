"""The known mistakes of cross_entropy, as models: what each one answers (see gradekit.known_mistakes).

Each model is the mistake itself, written once from the reference: a student's file that makes it,
in any style, answers as the model does, and is told the mistake by name. Where a mistake has a free
parameter (an epsilon, a clamp, a block size, an offset), the model finds it from the student's own
answers. Mistakes seen only in what a function does to its arguments or across calls (a memo, a
shared list, the caller's list changed) are told from their files, not here.
"""

import math

import numpy as np
from gradekit.reference import cross_entropy as ref
from gradekit.reference.course import BOS

from gradekit import known_behaviour, known_mistake


def _lse(z):
    """logsumexp, stable: what every model builds its mistake around."""
    m = max(z)
    return m + math.log(math.fsum(math.exp(x - m) for x in z))


# --- softmax --------------------------------------------------------------------------------------


@known_mistake("softmax", "softmax_no_max_shift.py")
def softmax_no_max_shift(logits):
    exps = [math.exp(x) for x in logits]
    total = sum(exps)
    return [e / total for e in exps]


@known_mistake("softmax", "softmax_no_max_shift_numpy.py")
def softmax_no_max_shift_numpy(logits):
    exps = np.exp(np.asarray(logits, dtype=np.float64))
    return (exps / exps.sum()).tolist()


@known_mistake("softmax", "softmax_not_normalised.py")
def softmax_not_normalised(logits):
    m = max(logits)
    return [math.exp(x - m) for x in logits]


@known_mistake("softmax", "softmax_returns_log_probs.py")
def softmax_returns_log_probs(logits):
    return ref.log_softmax(logits)


@known_mistake("softmax", "softmax_set_of_exps.py")
def softmax_set_of_exps(logits):
    m = max(logits)
    exps = [math.exp(x - m) for x in logits]
    total = sum(set(exps))
    return [e / total for e in exps]


@known_mistake("softmax", "softmax_shift_by_first_logit.py")
def softmax_shift_by_first_logit(logits):
    exps = [math.exp(x - logits[0]) for x in logits]
    total = sum(exps)
    return [e / total for e in exps]


@known_mistake("softmax", "softmax_shift_by_min.py")
def softmax_shift_by_min(logits):
    low = min(logits)
    exps = [math.exp(x - low) for x in logits]
    total = sum(exps)
    return [e / total for e in exps]


@known_mistake("softmax", "softmax_max_skips_last.py")
def softmax_max_skips_last(logits):
    top = max(logits[:-1], default=logits[0])
    exps = [math.exp(x - top) for x in logits]
    total = sum(exps)
    return [e / total for e in exps]


@known_mistake("softmax", "softmax_sorted.py")
def softmax_sorted(logits):
    return sorted(ref.softmax(logits))


# --- cross_entropy_loss ---------------------------------------------------------------------------


def _cap_from(logits, true_id, loss):
    """The cap on the loss, where the answer is below the true loss: the answer itself."""
    return loss if loss < ref.cross_entropy_loss(logits, true_id) - 1e-9 else None


@known_mistake("cross_entropy_loss", "loss_clamped_probability.py", fit=_cap_from, within=(6.9, 690.8))
def loss_clamped_probability(logits, true_id, cap):
    """caps the loss at {:.4g}, so a confidently wrong prediction costs no more than that

    Every loss above the cap is reported as the cap, as a clamp of the target's probability before the
    log (at exp(-cap)) or of the loss itself does: a confidently wrong model looks better than it is.
    Compute logsumexp(z) - z[t], which needs no clamp and never takes log(0).
    """
    return min(ref.cross_entropy_loss(logits, true_id), cap)


def _epsilon_from(logits, true_id, loss):
    """The epsilon added to p: exp(-answer) - p."""
    return math.exp(-loss) - ref.softmax(logits)[true_id]


@known_mistake("cross_entropy_loss", "loss_epsilon_inside_log.py", fit=_epsilon_from, within=(1e-300, 1e-2))
def loss_epsilon_inside_log(logits, true_id, eps):
    """adds {:.2g} inside the log, -log(p + eps), which biases every loss and caps it at -log(eps)

    The epsilon keeps log away from 0, but it changes every answer, most where p is small, and the
    loss can never exceed -log(eps). The stable loss needs no epsilon: logsumexp(z) - z[t].
    """
    return -math.log(ref.softmax(logits)[true_id] + eps)


@known_mistake("cross_entropy_loss", "loss_divided_by_vocab.py")
def loss_divided_by_vocab(logits, true_id):
    return ref.cross_entropy_loss(logits, true_id) / len(logits)


@known_mistake("cross_entropy_loss", "loss_forgets_to_add_max_back.py")
def loss_forgets_to_add_max_back(logits, true_id):
    return _lse(logits) - max(logits) - logits[true_id]


def _smoothing_from(logits, true_id, loss):
    """a in (1 - a) * loss + a * (logsumexp - mean(z)), solved from the answer."""
    natural = ref.cross_entropy_loss(logits, true_id)
    uniform = _lse(logits) - math.fsum(logits) / len(logits)
    return (natural - loss) / (natural - uniform) if abs(natural - uniform) > 1e-6 else None


@known_mistake("cross_entropy_loss", "loss_label_smoothing.py", fit=_smoothing_from, within=(1e-6, 0.5))
def loss_label_smoothing(logits, true_id, smoothing):
    """applies label smoothing ({:.2g}), which is not the cross-entropy with the one-hot target

    Label smoothing mixes the one-hot target with a uniform one: a training trick, not the loss the
    course defines. The loss is -log p(target) alone: logsumexp(z) - z[t].
    """
    natural = ref.cross_entropy_loss(logits, true_id)
    uniform = _lse(logits) - math.fsum(logits) / len(logits)
    return (1 - smoothing) * natural + smoothing * uniform


@known_mistake("cross_entropy_loss", "loss_log10.py")
def loss_log10(logits, true_id):
    m = max(logits)
    return math.log10(math.fsum(math.exp(x - m) for x in logits)) - (logits[true_id] - m)


@known_mistake("cross_entropy_loss", "loss_log10_of_probability.py")
def loss_log10_of_probability(logits, true_id):
    return -math.log10(ref.softmax(logits)[true_id])


@known_mistake("cross_entropy_loss", "loss_log2.py")
def loss_log2(logits, true_id):
    m = max(logits)
    return m + math.log2(math.fsum(math.exp(x - m) for x in logits)) - logits[true_id]


@known_mistake("cross_entropy_loss", "loss_log2_of_probability.py")
def loss_log2_of_probability(logits, true_id):
    return -math.log2(ref.softmax(logits)[true_id])


@known_mistake("cross_entropy_loss", "loss_log_of_softmax.py")
def loss_log_of_softmax(logits, true_id):
    return -math.log(ref.softmax(logits)[true_id])


@known_mistake("cross_entropy_loss", "loss_missing_minus.py")
def loss_missing_minus(logits, true_id):
    return -ref.cross_entropy_loss(logits, true_id)


@known_mistake("cross_entropy_loss", "loss_no_max_shift.py")
def loss_no_max_shift(logits, true_id):
    return math.log(sum(math.exp(x) for x in logits)) - logits[true_id]


@known_mistake("cross_entropy_loss", "loss_returns_probability.py")
def loss_returns_probability(logits, true_id):
    return ref.softmax(logits)[true_id]


@known_mistake("cross_entropy_loss", "loss_returns_whole_vector.py")
def loss_returns_whole_vector(logits, true_id):
    return [-x for x in ref.log_softmax(logits)]


@known_mistake("cross_entropy_loss", "loss_shift_by_target_logit.py")
def loss_shift_by_target_logit(logits, true_id):
    return math.log(sum(math.exp(x - logits[true_id]) for x in logits))


@known_mistake("cross_entropy_loss", "loss_target_off_by_one.py", among=(-1, 1))
def loss_target_off_by_one(logits, true_id, offset):
    """reads the true logit at true_id {:+} instead of true_id

    The loss must score the target itself: logsumexp(z) - z[true_id]. An index one off scores the
    neighbouring token, which is right only where the two logits happen to be equal.
    """
    return _lse(logits) - logits[(true_id + offset) % len(logits)]


@known_mistake("cross_entropy_loss", "loss_uses_argmax.py")
def loss_uses_argmax(logits, true_id):
    return _lse(logits) - max(logits)


# --- sequence_loss --------------------------------------------------------------------------------


def _losses(logits_list, true_ids):
    return [ref.cross_entropy_loss(z, t) for z, t in zip(logits_list, true_ids)]


@known_mistake("sequence_loss", "sequence_divides_by_n_minus_1.py")
def sequence_divides_by_n_minus_1(logits_list, true_ids):
    return math.fsum(_losses(logits_list, true_ids)) / (len(true_ids) - 1)


@known_mistake("sequence_loss", "sequence_divides_by_n_plus_1.py")
def sequence_divides_by_n_plus_1(logits_list, true_ids):
    return math.fsum(_losses(logits_list, true_ids)) / (len(true_ids) + 1)


@known_mistake("sequence_loss", "sequence_divides_by_vocab.py")
def sequence_divides_by_vocab(logits_list, true_ids):
    return math.fsum(_losses(logits_list, true_ids)) / len(logits_list[0])


@known_mistake("sequence_loss", "sequence_floor_division.py")
def sequence_floor_division(logits_list, true_ids):
    return math.fsum(_losses(logits_list, true_ids)) // len(true_ids)


@known_mistake("sequence_loss", "sequence_int8_targets.py")
def sequence_int8_targets(logits_list, true_ids):
    stored = np.array(true_ids, dtype=np.int8)  # as NumPy stores them: an id over 127 is refused
    return math.fsum(_lse(z) - z[t] for z, t in zip(logits_list, stored.tolist())) / len(true_ids)


@known_mistake("sequence_loss", "sequence_last_position_only.py")
def sequence_last_position_only(logits_list, true_ids):
    return ref.cross_entropy_loss(logits_list[-1], true_ids[-1])


@known_mistake("sequence_loss", "sequence_log_of_mean_probability.py")
def sequence_log_of_mean_probability(logits_list, true_ids):
    probabilities = [ref.softmax(z)[t] for z, t in zip(logits_list, true_ids)]
    return -math.log(math.fsum(probabilities) / len(probabilities))


@known_mistake("sequence_loss", "sequence_shift_by_document_max.py")
def sequence_shift_by_document_max(logits_list, true_ids):
    z = np.asarray(logits_list, dtype=np.float64)
    top = z.max()
    logsumexp = top + np.log(np.exp(z - top).sum(axis=1))
    return float((logsumexp - z[np.arange(len(z)), np.asarray(true_ids)]).mean())


@known_mistake("sequence_loss", "sequence_no_max_shift.py")
def sequence_no_max_shift(logits_list, true_ids):
    losses = [math.log(math.fsum(math.exp(x) for x in z)) - z[t] for z, t in zip(logits_list, true_ids)]
    return math.fsum(losses) / len(losses)


@known_mistake("sequence_loss", "sequence_skips_bos_targets.py")
def sequence_skips_bos_targets(logits_list, true_ids):
    kept = [(z, t) for z, t in zip(logits_list, true_ids) if t != BOS]
    return math.fsum(ref.cross_entropy_loss(z, t) for z, t in kept) / len(kept) if kept else 0.0


@known_mistake("sequence_loss", "sequence_skips_first_position.py")
def sequence_skips_first_position(logits_list, true_ids):
    return math.fsum(_losses(logits_list[1:], true_ids[1:])) / len(true_ids)


@known_mistake("sequence_loss", "sequence_sums.py")
def sequence_sums(logits_list, true_ids):
    return math.fsum(_losses(logits_list, true_ids))


@known_mistake("sequence_loss", "sequence_targets_shifted.py", among=(1, -1))
def sequence_targets_shifted(logits_list, true_ids, offset):
    """pairs each position's logits with the target {:+} positions on

    Position i predicts true_ids[i] from logits_list[i]: the logits and the targets are already
    aligned, one target per row. Pair them as given, zip(logits_list, true_ids).
    """
    n = len(true_ids)
    return math.fsum(ref.cross_entropy_loss(z, true_ids[(i + offset) % n]) for i, z in enumerate(logits_list)) / n


@known_mistake(
    "sequence_loss",
    "sequence_truncates_to_block_size.py",
    among=(8, 16, 32, 64, 128, 256, 512),
    also=("sequence_truncates_to_256.py",),
)
def sequence_truncates_to_block_size(logits_list, true_ids, block):
    """scores only the first {} positions, as if the document were cut at a block size

    microgpt cuts a name at its context length while training, but the sequence loss of a document
    is the mean over every one of its positions, however many there are.
    """
    kept = min(len(true_ids), block)
    return math.fsum(_losses(logits_list[:kept], true_ids[:kept])) / kept


# --- perplexity -----------------------------------------------------------------------------------


@known_mistake("perplexity", "perplexity_base_10.py")
def perplexity_base_10(loss):
    return 10.0**loss


@known_mistake("perplexity", "perplexity_base_2.py")
def perplexity_base_2(loss):
    return 2.0**loss


def _clamped_from(loss, perplexity):
    """The loss clamped at: log(answer), where the answer is below exp(loss)."""
    return math.log(perplexity) if 0 < perplexity < ref.perplexity(loss) * (1 - 1e-9) else None


@known_mistake("perplexity", "perplexity_clamped_loss.py", fit=_clamped_from, within=(1.0, 700.0))
def perplexity_clamped_loss(loss, ceiling):
    """caps the perplexity at exp({0:.4g}), so every loss above {0:.4g} gets that perplexity

    exp(loss) is finite for every loss up to 709, and inf beyond is the right answer there: a cap, of
    the loss 'to avoid overflow' or of the perplexity itself, only makes large losses look smaller than
    they are.
    """
    return math.exp(min(loss, ceiling))


@known_mistake("perplexity", "perplexity_exp_negative.py")
def perplexity_exp_negative(loss):
    return math.exp(-loss)


@known_mistake("perplexity", "perplexity_float32.py")
def perplexity_float32(loss):
    return float(np.exp(np.float32(loss)))


@known_mistake("perplexity", "perplexity_returns_loss.py")
def perplexity_returns_loss(loss):
    return loss


@known_mistake("perplexity", "perplexity_swapped_pow.py")
def perplexity_swapped_pow(loss):
    return loss**math.e


# --- softmax_cross_entropy_grad -------------------------------------------------------------------


def _onehot_at(logits, index):
    return [1.0 if i == index else 0.0 for i in range(len(logits))]


@known_mistake("softmax_cross_entropy_grad", "grad_divided_by_vocab.py")
def grad_divided_by_vocab(logits, true_id):
    return [g / len(logits) for g in ref.softmax_cross_entropy_grad(logits, true_id)]


@known_mistake("softmax_cross_entropy_grad", "grad_forgets_onehot.py")
def grad_forgets_onehot(logits, true_id):
    return ref.softmax(logits)


@known_mistake("softmax_cross_entropy_grad", "grad_hardcoded_vocab_27.py")
def grad_hardcoded_vocab_27(logits, true_id):
    onehot = [0.0] * 27
    onehot[true_id] = 1.0
    return [p - o for p, o in zip(ref.softmax(logits), onehot)]


@known_mistake("softmax_cross_entropy_grad", "grad_no_max_shift.py")
def grad_no_max_shift(logits, true_id):
    exps = [math.exp(x) for x in logits]
    total = sum(exps)
    return [e / total - o for e, o in zip(exps, _onehot_at(logits, true_id))]


@known_mistake("softmax_cross_entropy_grad", "grad_sign_flipped.py")
def grad_sign_flipped(logits, true_id):
    return [-g for g in ref.softmax_cross_entropy_grad(logits, true_id)]


@known_mistake("softmax_cross_entropy_grad", "grad_softmax_diagonal.py")
def grad_softmax_diagonal(logits, true_id):
    return [p * (1 - p) for p in ref.softmax(logits)]


@known_mistake("softmax_cross_entropy_grad", "grad_subtracts_one_everywhere.py")
def grad_subtracts_one_everywhere(logits, true_id):
    return [p - 1.0 for p in ref.softmax(logits)]


@known_mistake("softmax_cross_entropy_grad", "grad_target_off_by_one.py", among=(1, -1))
def grad_target_off_by_one(logits, true_id, offset):
    """subtracts the one-hot at true_id {:+} instead of true_id

    The gradient is softmax(z) minus the one-hot of the target itself: subtract 1 at index true_id,
    and nowhere else.
    """
    return [p - o for p, o in zip(ref.softmax(logits), _onehot_at(logits, (true_id + offset) % len(logits)))]


# --- what a call does, where its answers are right ------------------------------------------------

softmax_mutates_input = known_behaviour("softmax", "softmax_mutates_input.py", changes=["logits"])
softmax_returns_shared_buffer = known_behaviour("softmax", "softmax_returns_shared_buffer.py", keeps=True)
loss_mutates_input = known_behaviour("cross_entropy_loss", "loss_mutates_input.py", changes=["logits"])
sequence_mutates_rows = known_behaviour("sequence_loss", "sequence_mutates_rows.py", changes=["logits_list"])
grad_mutates_input = known_behaviour("softmax_cross_entropy_grad", "grad_mutates_input.py", changes=["logits"])
grad_returns_shared_buffer = known_behaviour("softmax_cross_entropy_grad", "grad_returns_shared_buffer.py", keeps=True)
