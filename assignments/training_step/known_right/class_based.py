"""Classes: a BigramModel and an Adam optimizer holding only constants, exposed as bound methods."""
import math


class Tokenizer:
    def __init__(self, letters="abcdefghijklmnopqrstuvwxyz"):
        self.ids = {c: i for i, c in enumerate(letters)}
        self.bos = len(letters)

    def encode(self, name):
        return [self.bos] + [self.ids[c] for c in name] + [self.bos]


class BigramModel:
    def positions(self, tokens):
        return list(zip(tokens, tokens[1:]))

    def log_probs(self, row):
        top = max(row)
        log_total = top + math.log(sum(math.exp(x - top) for x in row))
        return [x - log_total for x in row]

    def loss(self, W, tokens):
        positions = self.positions(tokens)
        return -sum(self.log_probs(W[a])[b] for a, b in positions) / len(positions)

    def grad(self, W, tokens):
        positions = self.positions(tokens)
        grad = [[0.0] * len(row) for row in W]
        for a, b in positions:
            for j, lp in enumerate(self.log_probs(W[a])):
                grad[a][j] += (math.exp(lp) - (j == b)) / len(positions)
        return grad


class LinearSchedule:
    def __call__(self, step, num_steps, base_lr):
        return base_lr * (1 - step / num_steps)


class Adam:
    def __init__(self, beta1=0.85, beta2=0.99, eps=1e-8):
        self.beta1, self.beta2, self.eps = beta1, beta2, eps

    def update(self, params, grads, m, v, step, lr, beta1=None, beta2=None, eps=None):
        b1 = self.beta1 if beta1 is None else beta1
        b2 = self.beta2 if beta2 is None else beta2
        eps = self.eps if eps is None else eps
        new_m = [b1 * mi + (1 - b1) * g for mi, g in zip(m, grads)]
        new_v = [b2 * vi + (1 - b2) * g ** 2 for vi, g in zip(v, grads)]
        new_p = [p - lr * (mi / (1 - b1 ** (step + 1))) / ((vi / (1 - b2 ** (step + 1))) ** 0.5 + eps)
                 for p, mi, vi in zip(params, new_m, new_v)]
        return new_p, new_m, new_v


class SGD:
    def update(self, params, grads, lr):
        return [p - lr * g for p, g in zip(params, grads)]


class Trainer:
    def __init__(self):
        self.model, self.optimizer, self.schedule = BigramModel(), Adam(), LinearSchedule()

    def step(self, W, tokens, m, v, step, num_steps=1000, base_lr=0.01):
        loss = self.model.loss(W, tokens)
        grad = self.model.grad(W, tokens)
        lr = self.schedule(step, num_steps, base_lr)
        rows = [self.optimizer.update(*row, step, lr) for row in zip(W, grad, m, v)]
        return loss, [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]


_tokenizer, _model, _trainer = Tokenizer(), BigramModel(), Trainer()
encode = _tokenizer.encode
bigram_loss = _model.loss
bigram_grad = _model.grad
sgd_update = SGD().update
linear_lr = LinearSchedule()
adam_update = Adam().update
train_step = _trainer.step
