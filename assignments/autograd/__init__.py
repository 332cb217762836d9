"""Autograd: microgpt's Value, graded on random expression graphs against exact derivatives.

Write the scalar `Value` microgpt computes its loss with: values, the local gradient of every
operation, and a backward pass that sends gradients through the graph in topological order and adds
up what reaches a node by several paths. It is graded on random expressions (shared nodes, plain
numbers on either side, chains hundreds deep), on each operation alone, and on microgpt's own use:
softmax and -log p[target], whose backward must give softmax - onehot.
"""
