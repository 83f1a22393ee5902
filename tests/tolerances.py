"""Float tolerances the tests share, each with the arithmetic that justifies it."""

# Two ways of running the same float32 network (one compiled call against predict()'s batches of 32, XLA
# against plain TensorFlow, another batch split) add up its sums in another order, and another CPU's kernels
# (AMX, another oneDNN blocking) change the order again. Each layer then differs by a few float32 epsilons
# (1.2e-7) times the square root of the terms summed (up to 6,272 here), about 1e-5 relative after the
# network's depth. 1e-4 relative and 1e-5 absolute bound that with a margin, and stay far below what a
# reader could see: a grey level is 1/255 = 4e-3, and a probability is shown to 1e-2.
SAME_NETWORK = {"rtol": 1e-4, "atol": 1e-5}
